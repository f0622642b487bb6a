"""
Admin of course flag history: adding a row is how a flag is changed; rows are never edited or deleted.

Each list shows who changed what, when and why, and whether the row is still the one in effect. A new row
is a proposed change first: the guards an application registered (``toggles.proposals``) may refuse it
with their reasons, which the form shows; "force" lets a refused change through (its reason says why, and
the guard records it), "allow unseen" accepts a course or org nothing has named yet.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Exists, OuterRef

from toggles import proposals
from toggles.exceptions import TogglesError
from toggles.keys import course_ref, validate_org
from toggles.models import CourseOverride, OrgOverride, Percentage
from toggles.registry import course_flags


def _flag_choices():
    return [(flag.name, flag.name) for flag in course_flags()]


class GuardedForm(forms.ModelForm):
    """A new row's form, with the two answers a guard's refusal may ask for."""

    force = forms.BooleanField(
        required=False, help_text="Make the change even though a guard refuses it (the reason is recorded)."
    )
    allow_unseen = forms.BooleanField(
        required=False, help_text="The course or org has not been seen yet, and that is meant."
    )


class ChangeAdmin(admin.ModelAdmin):
    """Add-only: a change is a new row, stamped with the account that adds it."""

    form = GuardedForm

    key_fields: tuple[str, ...] = ()
    value_fields: tuple[str, ...] = ()
    list_filter = ("flag_name",)
    date_hierarchy = "changed_at"
    list_per_page = 50

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("flag_name", *self.key_fields, *self.value_fields, "reason", "force", "allow_unseen")
        return ("flag_name", *self.key_fields, *self.value_fields, "changed_by", "changed_at", "reason")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["widgets"] = {"flag_name": forms.Select(choices=_flag_choices())}
        form = super().get_form(request, obj, change=change, **kwargs)
        user = request.user

        admin_class = self

        class StampedForm(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                if self.instance._state.adding:
                    self.instance.changed_by = user.get_username()
                    self.instance.changed_by_user = user

            def clean(self):
                cleaned = super().clean()
                if self.instance._state.adding and not self.errors:
                    try:
                        self.instance.on_write = proposals.check(admin_class.proposal(cleaned, user))
                    except TogglesError as refused:
                        raise forms.ValidationError(refused.message)
                return cleaned

        return StampedForm

    def proposal(self, cleaned: dict, user) -> proposals.ProposedChange:
        """The change a new row makes, as the guards read it."""
        if "course_id" in self.key_fields:
            scope, target = "course", course_ref(cleaned.get("course_id") or "").key
        elif "org" in self.key_fields:
            scope, target = "org", validate_org(cleaned.get("org") or "")
        else:
            scope, target = "percentage", ""
        value = cleaned.get("percent") if scope == "percentage" else cleaned.get("value")
        return proposals.ProposedChange(
            scope=scope, target=target, values={cleaned.get("flag_name"): value}, reason=cleaned.get("reason") or "",
            changed_by=user.get_username(), force=bool(cleaned.get("force")),
            allow_unseen=bool(cleaned.get("allow_unseen")),
        )

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            for on_write in getattr(obj, "on_write", ()):
                on_write()

    def get_queryset(self, request):
        newer = self.model.objects.filter(
            flag_name=OuterRef("flag_name"),
            id__gt=OuterRef("id"),
            **{field: OuterRef(field) for field in self.key_fields},
        )
        return super().get_queryset(request).annotate(superseded=Exists(newer))

    @admin.display(boolean=True, description="in effect")
    def in_effect(self, obj) -> bool:
        return not obj.superseded

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # history is read-only: the change view only shows a row

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(CourseOverride)
class CourseOverrideAdmin(ChangeAdmin):
    key_fields = ("course_id",)
    value_fields = ("value",)
    list_display = ("changed_at", "flag_name", "course_id", "value", "changed_by", "reason", "in_effect")
    list_filter = ("flag_name", "value")
    search_fields = ("course_id", "changed_by", "reason")


@admin.register(OrgOverride)
class OrgOverrideAdmin(ChangeAdmin):
    key_fields = ("org",)
    value_fields = ("value",)
    list_display = ("changed_at", "flag_name", "org", "value", "changed_by", "reason", "in_effect")
    list_filter = ("flag_name", "value")
    search_fields = ("org", "changed_by", "reason")


@admin.register(Percentage)
class PercentageAdmin(ChangeAdmin):
    value_fields = ("percent",)
    list_display = ("changed_at", "flag_name", "percent", "changed_by", "reason", "in_effect")
    search_fields = ("changed_by", "reason")
