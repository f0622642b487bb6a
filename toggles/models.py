"""
Append-only history of course flag changes: course overrides, org overrides and percentages.

Nothing is edited or deleted: a change is a new row with who made it, when and why, and the latest row
for a flag and a course (or org, or the flag's percentage) is the one in effect. Every row is checked
before it is written, whichever way it is written (the API, the admin, the ORM).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from toggles.exceptions import AppendOnly, TogglesError
from toggles.signals import history_written
from toggles.validation import (
    validate_changed_by,
    validate_course_key,
    validate_flag_name,
    validate_org_name,
    validate_override_value,
    validate_percentage,
    validate_reason,
)


class OverrideValue(models.TextChoices):
    ON = "on", "force on"
    OFF = "off", "force off"
    UNSET = "unset", "unset (the next layer decides)"


class ChangeQuerySet(models.QuerySet):
    """Queries of history rows: adding is allowed (checked row by row); editing and deleting are not."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            obj.check_row()
        created = super().bulk_create(objs, *args, **kwargs)
        history_written.send(sender=self.model, using=self.db)
        return created

    def update(self, **kwargs):
        raise AppendOnly(_never_edited(self.model))

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnly(_never_edited(self.model))

    def delete(self):
        raise AppendOnly(_never_deleted(self.model))


def _never_edited(model) -> str:
    return f"{model.__name__} rows are history and are never edited; add a new row instead."


def _never_deleted(model) -> str:
    return f"{model.__name__} rows are history and are never deleted; add an 'unset' row instead."


class FlagChange(models.Model):
    """What every history row has: the flag, who changed it, when and why."""

    flag_name = models.CharField(
        max_length=255, help_text="Name of the course flag, e.g. xqueue_bridge.event_delivery."
    )
    changed_by = models.CharField(
        max_length=150, help_text="Username (or service name) of who made the change."
    )
    changed_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The account that made the change, when it was made by an account of this site.",
    )
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)
    reason = models.CharField(
        max_length=255, help_text="Why the change is made; shown with every decision it causes."
    )

    objects = ChangeQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-id"]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly(_never_edited(type(self)))
        self.check_row()
        super().save(*args, **kwargs)
        history_written.send(sender=type(self), using=self._state.db)

    def delete(self, *args, **kwargs):
        raise AppendOnly(_never_deleted(type(self)))

    def clean(self) -> None:
        """The admin's check: the same as every write's, as a form error."""
        try:
            self.check_row()
        except TogglesError as error:
            raise ValidationError(error.message) from None

    def check_row(self) -> None:
        """Refuse a row that would be bad history (raises a ``toggles.exceptions`` error)."""
        validate_flag_name(self.flag_name)
        self.changed_by = validate_changed_by(self.changed_by)
        self.reason = validate_reason(self.reason)


class CourseOverride(FlagChange):
    """Force a flag on or off for one course, or unset that (the org, percentage or global layer decides)."""

    course_id = models.CharField(max_length=255, help_text="Course key, e.g. course-v1:edX+DemoX+2026.")
    value = models.CharField(max_length=5, choices=OverrideValue.choices)

    class Meta(FlagChange.Meta):
        verbose_name = "course override"
        indexes = [models.Index(fields=["flag_name", "course_id", "id"], name="toggles_course_latest")]

    def __str__(self) -> str:
        return f"{self.flag_name} {self.value} for {self.course_id}"

    def check_row(self) -> None:
        super().check_row()
        self.course_id = validate_course_key(self.course_id)
        validate_override_value(self.value)


class OrgOverride(FlagChange):
    """Force a flag on or off for every course of an organisation that has no course override of its own."""

    org = models.CharField(max_length=255, help_text="Organisation, the org part of a course key, e.g. edX.")
    value = models.CharField(max_length=5, choices=OverrideValue.choices)

    class Meta(FlagChange.Meta):
        verbose_name = "org override"
        indexes = [models.Index(fields=["flag_name", "org", "id"], name="toggles_org_latest")]

    def __str__(self) -> str:
        return f"{self.flag_name} {self.value} for org {self.org}"

    def check_row(self) -> None:
        super().check_row()
        validate_org_name(self.org)
        validate_override_value(self.value)


class Percentage(FlagChange):
    """
    Turn a flag on for a percentage of the courses no override decides. A course is in when its stable
    bucket (a hash of the flag name and the course key) is below the percentage, so a course that is in
    stays in as the percentage grows. 0 turns the layer off.
    """

    percent = models.DecimalField(max_digits=5, decimal_places=2, help_text="0 to 100, at most two decimals.")

    class Meta(FlagChange.Meta):
        verbose_name = "percentage"
        indexes = [models.Index(fields=["flag_name", "id"], name="toggles_percent_latest")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(percent__gte=Decimal(0)) & models.Q(percent__lte=Decimal(100)),
                name="toggles_percent_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.flag_name} at {self.percent}%"

    def check_row(self) -> None:
        super().check_row()
        self.percent = validate_percentage(self.percent)
