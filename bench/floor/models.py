from django.db import models
from django.utils import timezone


class Item(models.Model):
    """A learner answer waiting for, or holding, a grader."""

    queue_name = models.CharField(max_length=128)
    body = models.TextField()
    status = models.CharField(max_length=10, default="queued")  # queued -> pulled -> graded
    pullkey = models.CharField(max_length=64, blank=True, default="")
    pulled_at = models.DateTimeField(null=True)
    reply = models.TextField(blank=True, default="")

    class Meta:
        app_label = "floor"
        indexes = [models.Index(fields=["queue_name", "status", "id"])]

    def __str__(self):
        return f"item {self.pk} ({self.status})"


class SinkRow(models.Model):
    """One per accepted result: what the receiving end wrote."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        app_label = "floor"

    def __str__(self):
        return f"result of item {self.item_id}"
