"""
The standalone sink's records: each learner's queued problem, and an append-only log of score updates.

``ProblemState`` stands in for the LMS's StudentModule state of one capa problem with one queued input
(the CorrectMap entry and the score). ``LearnerUpdate`` records every update a receiving end handed the
renderer, applied or not.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from xqueue_bridge.data import ProblemSnapshot
from xqueue_bridge.text import UNSTORABLE


def storable(text: str) -> str:
    """
    ``text`` as every supported database keeps it: NUL (PostgreSQL refuses it in text) and unpaired
    surrogates (no database encoding holds them) become U+FFFD. Capa accepts both in a grader's msg.
    """
    return UNSTORABLE.sub("\ufffd", text)


class ProblemState(models.Model):
    """One learner's state of one queued problem: what capa keeps in its CorrectMap, plus the score."""

    course_id = models.CharField(max_length=255, db_index=True)
    usage_key = models.CharField(max_length=255)
    user_id = models.CharField(max_length=64, help_text="numeric LMS user id, as the callback URL carries it")
    anonymous_student_id = models.CharField(max_length=128, help_text="what the event's user_id carries")
    max_score = models.PositiveIntegerField(default=1)
    # NULL, unlike "", means "not queued" / "no correctness", as None does in capa's CorrectMap.
    queuekey = models.CharField(  # noqa: DJ001
        max_length=255, null=True, blank=True, help_text="key of the queued submission; NULL when not queued"
    )
    correctness = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    npoints = models.FloatField(null=True, blank=True)
    msg = models.TextField(blank=True, default="")
    ungraded_msg = models.TextField(blank=True, default="", help_text="last ungraded_response message")
    feedback_html = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["usage_key", "user_id"], name="xqb_sink_problem_user"),
            models.UniqueConstraint(
                fields=["usage_key", "anonymous_student_id"], name="xqb_sink_problem_anon"
            ),
        ]
        ordering = ["id"]

    def __str__(self) -> str:  # the queue key is a secret: never part of the text
        return f"{self.usage_key} for user {self.user_id} ({self.correctness or 'not graded'})"

    def snapshot(self) -> ProblemSnapshot:
        return ProblemSnapshot(
            max_score=self.max_score,
            queuekey=self.queuekey,
            correctness=self.correctness,
            npoints=self.npoints,
            msg=self.msg,
        )

    def set_snapshot(self, snapshot: ProblemSnapshot, feedback_html: str) -> None:
        """Take the learner-visible fields of ``snapshot``; the caller saves."""
        self.queuekey = snapshot.queuekey
        self.correctness = snapshot.correctness
        self.npoints = snapshot.npoints
        self.msg = storable(snapshot.msg)
        self.feedback_html = storable(feedback_html)


class LearnerUpdate(models.Model):
    """
    One score update a receiving end handed the renderer: append-only.

    ``applied_key`` holds the queue key of an applied update and is NULL otherwise; it is unique per
    problem, so a result can be applied to a learner once, even if two deliveries slipped past the row lock.
    """

    class Via(models.TextChoices):
        CALLBACK = "callback", "legacy HTTP callback"
        EVENT = "event", "EXTERNAL_GRADER_SCORE_SUBMITTED"

    problem = models.ForeignKey(ProblemState, on_delete=models.CASCADE, related_name="updates")
    queuekey = models.TextField(null=True, blank=True, help_text="the key the update carried")  # noqa: DJ001
    via = models.CharField(max_length=10, choices=Via.choices)
    dispatch = models.CharField(max_length=32, default="score_update")
    valid_reply = models.BooleanField()
    applied = models.BooleanField(help_text="the key matched and was consumed")
    # NULLs are distinct in a unique constraint on every supported database: only applied rows collide.
    applied_key = models.CharField(max_length=255, null=True, blank=True, editable=False)  # noqa: DJ001
    npoints = models.FloatField(null=True, blank=True, help_text="after the update")
    correctness = models.CharField(  # noqa: DJ001
        max_length=32, null=True, blank=True, help_text="after the update"
    )
    error = models.TextField(blank=True, default="", help_text="why the update failed as the LMS would")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["problem", "applied_key"], name="xqb_sink_one_applied_update_per_key"
            ),
            models.CheckConstraint(
                condition=Q(applied=True, applied_key__isnull=False)
                | Q(applied=False, applied_key__isnull=True),
                name="xqb_sink_applied_key_iff_applied",
            ),
        ]
        ordering = ["id"]

    def __str__(self) -> str:
        state = "applied" if self.applied else "not applied"
        return f"update {self.pk} of {self.problem_id} via {self.via}: {state}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("LearnerUpdate rows are append-only; record a new update instead")
        super().save(*args, **kwargs)
