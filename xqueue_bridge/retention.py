"""
Retention of finished submissions: learner code (the LMS's body, uploaded files) and grader replies are
kept only as long as an operator needs them.

A submission is finished when nothing can happen to it any more: superseded, given up, or graded with
no delivery pending. Its deliveries, comparisons and uploaded files go with it; a submission that still
waits for a grader or a delivery is never purged, whatever its age.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from xqueue_bridge.intake.queue_api import delete_files
from xqueue_bridge.models import Delivery, Submission


def finished_before(days: float):
    """Finished submissions created more than ``days`` days ago."""
    if days < 0:
        raise ValueError(f"--days {days:g} is negative; expected 0 or more days to keep")
    pending = Delivery.objects.filter(submission=OuterRef("pk"), status=Delivery.Status.PENDING)
    return Submission.objects.filter(
        created_at__lt=timezone.now() - timedelta(days=days),
        status__in=(Submission.Status.GRADED, Submission.Status.FAILED, Submission.Status.SUPERSEDED),
    ).exclude(Exists(pending))


def purge(days: float, *, dry_run: bool = False, batch: int = 500) -> int:
    """Delete finished submissions older than ``days`` with their deliveries and files; returns how many."""
    total = 0
    while True:
        chunk = list(finished_before(days).order_by("id").values_list("id", "files")[:batch])
        if not chunk or dry_run:
            return total + (finished_before(days).count() if dry_run else 0)
        ids = [pk for pk, _ in chunk]
        with transaction.atomic():
            Delivery.objects.filter(submission_id__in=ids).delete()
            Submission.objects.filter(pk__in=ids).delete()
        for _, files in chunk:
            delete_files(files.values())
        total += len(ids)
