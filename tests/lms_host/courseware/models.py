"""A learner's state of one problem (the part of capa's StudentModule state an XQueue result touches)."""

from django.db import models


class ProblemState(models.Model):
    course_id = models.CharField(max_length=255)
    usage_key = models.CharField(max_length=255)
    user_id = models.IntegerField()
    anonymous_user_id = models.CharField(max_length=64)
    queuekey = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001  (capa's None: not waiting)
    correctness = models.CharField(max_length=20, blank=True, default="")
    npoints = models.FloatField(null=True, blank=True)
    msg = models.TextField(blank=True, default="")
    updates_applied = models.PositiveIntegerField(default=0)  # results that changed the state (must stay 1)

    class Meta:
        app_label = "lms_host_courseware"
        constraints = [models.UniqueConstraint(fields=["usage_key", "user_id"], name="lms_host_problem_once")]

    def __str__(self) -> str:
        return f"{self.usage_key} of user {self.user_id}"
