from django.db import models
from django.utils import timezone


class SinkRow(models.Model):
    """One per score event received."""

    submission_id = models.IntegerField()
    queue_name = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "anchor"

    def __str__(self):
        return f"result of submission {self.submission_id}"
