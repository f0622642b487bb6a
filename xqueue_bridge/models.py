"""
The queue's durable records: a Submission per LMS submit, and a Delivery per result to hand to the LMS.

Each model lists its allowed status moves in one place (``TRANSITIONS``), and every status change goes
through it: ``transition`` for a row one process holds, ``move`` for the moves several processes race for
(a pull, the retirement of an older submission, a delivery's outcome), a conditional UPDATE that names the
status it moves from, so only one of the racers wins.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db import models
from django.utils import timezone

from xqueue_bridge.errors import InvalidTransition


class Stage(models.TextChoices):
    """Per-course migration stage, fixed on each submission when the learner submits."""

    CALLBACK = "callback", "callback"
    SHADOW_CALLBACK = "shadow_callback", "shadow_callback"
    SHADOW_EVENT = "shadow_event", "shadow_event"
    EVENT = "event", "event"


class DeliveryPath(models.TextChoices):
    CALLBACK = "callback", "legacy HTTP callback"
    EVENT = "event", "EXTERNAL_GRADER_SCORE_SUBMITTED event"


class StatusMachine(models.Model):
    """A model whose ``status`` moves only along ``TRANSITIONS`` (checked here, in one place)."""

    TRANSITIONS: dict[str, set[str]] = {}
    STATUS_CHANGED_FIELD: str | None = None  # a timestamp field set on each move

    class Meta:
        abstract = True

    @classmethod
    def check_move(cls, from_status: str, to_status: str) -> None:
        if to_status not in cls.TRANSITIONS[from_status]:
            raise InvalidTransition(f"{cls._meta.verbose_name}: {from_status} -> {to_status} is not allowed")

    @classmethod
    def move(cls, rows: models.QuerySet, from_statuses: str | Iterable[str], to_status: str, **changes) -> int:
        """
        Move the rows of ``rows`` that are in ``from_statuses`` to ``to_status`` in one conditional UPDATE
        (setting ``changes`` too); returns how many moved. A row another process moved first is not touched.
        """
        sources = [from_statuses] if isinstance(from_statuses, str) else list(from_statuses)
        for source in sources:
            cls.check_move(source, to_status)
        if cls.STATUS_CHANGED_FIELD:
            changes.setdefault(cls.STATUS_CHANGED_FIELD, timezone.now())
        return rows.filter(status__in=sources).update(status=to_status, **changes)

    def transition(self, new_status: str) -> None:
        """Move this row to ``new_status`` if the status machine allows it; the caller saves."""
        self.check_move(self.status, new_status)
        self.status = new_status
        if self.STATUS_CHANGED_FIELD:
            setattr(self, self.STATUS_CHANGED_FIELD, timezone.now())


def callback_digest(lms_callback_url: str) -> str:
    """Index key of a callback URL: one live submission per learner and problem (legacy retirement rule)."""
    return hashlib.sha256(lms_callback_url.encode("utf-8")).hexdigest()


class Submission(StatusMachine):
    """One learner answer sent by the LMS, served to graders until a reply is accepted."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued: waiting for a grader"
        PULLED = "pulled", "pulled: a grader holds it"
        GRADED = "graded", "graded: a reply was accepted and its delivery queued"
        FAILED = "failed", "failed: no scorable reply after the allowed attempts"
        SUPERSEDED = "superseded", "superseded: the learner submitted again"

    TRANSITIONS = {
        Status.QUEUED: {Status.PULLED, Status.SUPERSEDED},
        Status.PULLED: {Status.PULLED, Status.QUEUED, Status.GRADED, Status.FAILED, Status.SUPERSEDED},
        Status.GRADED: set(),
        Status.FAILED: set(),
        Status.SUPERSEDED: set(),
    }
    LIVE = (Status.QUEUED, Status.PULLED)
    STATUS_CHANGED_FIELD = "status_changed_at"

    queue_name = models.CharField(max_length=128)
    # The LMS's strings, verbatim: the header goes back in the callback, the body to the grader.
    xqueue_header = models.TextField()
    xqueue_body = models.TextField()
    lms_callback_url = models.TextField()
    callback_digest = models.CharField(max_length=64, db_index=True)
    lms_key = models.CharField(max_length=255)
    # What the callback URL and body say (parsed and checked at submit time).
    course_id = models.CharField(max_length=255, db_index=True)
    usage_key = models.CharField(max_length=255)
    user_id = models.CharField(max_length=64)
    dispatch = models.CharField(max_length=64, default="score_update")
    anonymous_student_id = models.CharField(max_length=128, blank=True, default="")
    points_possible = models.PositiveIntegerField(default=1)
    # Uploaded files: {"name the LMS gave": storage path}; the path's random folder is what its URL grants.
    files = models.JSONField(default=dict, blank=True)

    stage = models.CharField(max_length=20, choices=Stage.choices)
    stage_reason = models.CharField(max_length=255)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    status_changed_at = models.DateTimeField(default=timezone.now)
    pullkey = models.CharField(max_length=64, blank=True, default="")
    pulled_at = models.DateTimeField(null=True, blank=True)
    pull_count = models.PositiveIntegerField(default=0)
    grading_failures = models.PositiveIntegerField(default=0)
    last_refusal = models.TextField(blank=True, default="")
    grader_reply = models.TextField(blank=True, default="")
    replied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["queue_name", "status", "created_at"], name="xqb_sub_queue_status"),
            # A pull's queries: one status of one queue in id order (intake.queue_api.pull_candidates).
            models.Index(fields=["queue_name", "status", "id"], name="xqb_sub_queue_next"),
            models.Index(fields=["status", "pulled_at"], name="xqb_sub_status_pulled"),
        ]
        ordering = ["id"]

    def __str__(self) -> str:  # secrets (lms_key, pullkey) are never part of the text
        return f"submission {self.pk} ({self.queue_name}, {self.course_id}, {self.status})"

    @property
    def authoritative_path(self) -> str:
        return DeliveryPath.EVENT if self.stage in (Stage.EVENT, Stage.SHADOW_EVENT) else DeliveryPath.CALLBACK

    @property
    def shadowed(self) -> bool:
        return self.stage in (Stage.SHADOW_CALLBACK, Stage.SHADOW_EVENT)


class Delivery(StatusMachine):
    """
    A result to hand to the LMS over the submission's authoritative path: the durable outbox row.

    Written in the same transaction as the accepted reply; attempted after commit; claimed under a lease
    so that a process that dies mid-delivery leaves it to another one.
    """

    class Kind(models.TextChoices):
        RESULT = "result", "grader result"
        FAILURE_NOTICE = "failure_notice", "failure notice to the learner"

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        DELIVERED = "delivered", "delivered"
        DEAD = "dead", "dead: given up"
        WITHDRAWN = "withdrawn", "withdrawn: no longer wanted, not sent again"

    TRANSITIONS = {
        Status.PENDING: {Status.DELIVERED, Status.DEAD, Status.WITHDRAWN},
        Status.DEAD: {Status.PENDING, Status.WITHDRAWN},  # replay; a notice its replayed result replaces
        Status.DELIVERED: set(),
        Status.WITHDRAWN: set(),
    }

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="deliveries")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.RESULT)
    path = models.CharField(max_length=10, choices=DeliveryPath.choices)
    # The reply to deliver, verbatim (the grader's, or the failure notice).
    body = models.TextField()
    # Event path: ExternalGraderScoreData fields, computed once when the reply was accepted.
    event_data = models.JSONField(null=True, blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_token = models.CharField(max_length=32, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Start of the current retry budget: creation, or the last replay. DELIVERY_RETRY's max_age counts from here.
    budget_started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.FloatField(null=True, blank=True)  # seconds of the successful attempt

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="xqb_delivery_due")]
        ordering = ["id"]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"delivery {self.pk} of submission {self.submission_id} by {self.path} ({self.status})"


class DeliveryEnd(StatusMachine):
    """
    One receiving end of an event-path delivery (an in-process receiver, an event-bus topic) and whether it
    confirmed the result: a retry sends only to the ends that have not (docs/decisions/0010).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "pending: sent, not confirmed yet"
        CONFIRMED = "confirmed", "confirmed: the end took the result"

    TRANSITIONS = {Status.PENDING: {Status.CONFIRMED}, Status.CONFIRMED: set()}

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="ends")
    end = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["delivery", "end"], name="xqb_delivery_end_once")]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.end} of delivery {self.delivery_id} ({self.status})"
class ForcedMove(models.Model):
    """
    A course moved forward past a shadow stage it had not passed, because the operator forced it (with the
    reason). It stays open until an operator clears it (``xqueue-bridge rollout clear-forced``); the
    switch-off check lists the open ones.
    """

    target = models.CharField(max_length=255, help_text="what the change named: a course, an org or a percentage")
    course_id = models.CharField(max_length=255, db_index=True)
    from_stage = models.CharField(max_length=20, choices=Stage.choices)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    unmet = models.TextField(help_text="why the move was refused before it was forced")
    reason = models.CharField(max_length=255)
    changed_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.CharField(max_length=150, blank=True, default="")
    cleared_reason = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        state = "cleared" if self.cleared_at else "open"
        return f"forced move of {self.course_id}: {self.from_stage} -> {self.to_stage} ({state})"
