"""
The shadow comparison's records: one ``Comparison`` per sampled result (two with the noise baseline), and
one ``GuardrailMove`` each time the guardrail moved a course back.

The comparison of an accepted reply is inserted once, decided, when its authoritative delivery is final.
That of a refused or duplicate reply (no delivery) is written ``pending`` in the put_result transaction,
so it commits or rolls back with the reply and a process that dies before comparing leaves it to the
worker. Grader replies may hold learner code and personal data: by default a decided comparison keeps the
differing scalar fields (points, correctness, error...), digests of both normalized observations and of
the feedback, and never the reply itself (docs/decisions/0008). A sampled result the shadow thread was too
far behind to compare is kept as ``shed`` with the reason, so that it is counted, never silently missing.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from xqueue_bridge.models import Delivery, DeliveryPath, Stage, Submission


class Comparison(models.Model):
    """The control (authoritative path) and the candidate (the other path, dry run) of one reply, compared."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending: a refused or duplicate reply waiting to be compared"
        MATCHED = "matched", "matched: both paths give the learner the same outcome"
        MISMATCHED = "mismatched", "mismatched: the paths differ (see the differing fields)"
        IGNORED = "ignored", "ignored: every difference is an accepted one (ignore rules)"
        ERRORED = "errored", "errored: the candidate or the comparator failed"
        SHED = "shed", "shed: sampled but not compared, the shadow thread was over MAX_LAG behind"

    class Trigger(models.TextChoices):
        RESULT = "result", "an accepted reply, compared once its delivery is final"
        REFUSAL = "refusal", "a reply the event path refused to score"
        DUPLICATE = "duplicate", "an accepted reply sent again by the grader"

    DECIDED = (Status.MATCHED, Status.MISMATCHED, Status.IGNORED)

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="comparisons")
    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, null=True, blank=True, related_name="comparisons"
    )
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    noise = models.BooleanField(default=False, help_text="noise baseline: the control path compared with itself")
    course_id = models.CharField(max_length=255)
    org = models.CharField(max_length=255, blank=True, default="")
    queue_name = models.CharField(max_length=128)
    stage = models.CharField(max_length=20, choices=Stage.choices)
    control_path = models.CharField(max_length=10, choices=DeliveryPath.choices)
    candidate_path = models.CharField(max_length=10, choices=DeliveryPath.choices)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # {field: {"control": value or "sha256:...", "candidate": ...}} of the fields that differ after cleaning.
    diff = models.JSONField(default=dict, blank=True)
    categories = models.JSONField(default=list, blank=True)  # ["points_earned: rounding", ...]
    # The verdict split in two (docs/decisions/0011): what the learner gets, and what the record says
    # (the event's integer points_earned, a path's error). Blank while pending or errored.
    learner_status = models.CharField(max_length=10, choices=Status.choices, blank=True, default="")
    record_status = models.CharField(max_length=10, choices=Status.choices, blank=True, default="")
    learner_categories = models.JSONField(default=list, blank=True)
    record_categories = models.JSONField(default=list, blank=True)
    clean_rules = models.JSONField(default=list, blank=True)  # the clean rules in force when compared
    ignored_by = models.JSONField(default=list, blank=True)  # the ignore rules that accepted the differences
    control_error = models.CharField(max_length=64, blank=True, default="")
    candidate_error = models.CharField(max_length=64, blank=True, default="")
    control_duration = models.FloatField(null=True, blank=True, help_text="seconds: real delivery + model")
    candidate_duration = models.FloatField(null=True, blank=True, help_text="seconds: dry run")
    control_digest = models.CharField(max_length=64, blank=True, default="")
    candidate_digest = models.CharField(max_length=64, blank=True, default="")
    # Full normalized observations, only with SHADOW["STORE_FULL_VALUES"].
    control_values = models.JSONField(null=True, blank=True)
    candidate_values = models.JSONField(null=True, blank=True)
    # A refused reply exists nowhere else: kept while pending, cleared once compared (unless full values).
    reply = models.TextField(blank=True, default="")
    context = models.JSONField(default=dict, blank=True)  # trigger facts: {"attempt": 2, "given_up": false}
    error = models.TextField(blank=True, default="", help_text="why the comparison errored or was shed")
    created_at = models.DateTimeField(default=timezone.now)
    compared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "created_at"], name="xqb_cmp_status"),
            models.Index(fields=["course_id", "created_at"], name="xqb_cmp_course"),
            models.Index(fields=["created_at"], name="xqb_cmp_created"),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        kind = "noise baseline" if self.noise else f"{self.control_path} vs {self.candidate_path}"
        return f"comparison {self.pk} of submission {self.submission_id} ({kind}): {self.status}"


class GuardrailMove(models.Model):
    """A course the guardrail moved back to shadow_callback, with the figures that made it do so."""

    course_id = models.CharField(max_length=255, db_index=True)
    from_stage = models.CharField(max_length=20, choices=Stage.choices)
    to_stage = models.CharField(max_length=20, choices=Stage.choices)
    reason = models.CharField(max_length=255)
    results = models.PositiveIntegerField(help_text="results in the window the rates are computed over")
    mismatch_rate = models.FloatField(null=True, blank=True)
    error_rate = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.course_id}: {self.from_stage} -> {self.to_stage} ({self.created_at:%Y-%m-%d %H:%M})"
