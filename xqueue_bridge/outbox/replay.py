"""
Replaying given-up ("dead") deliveries: select them by id, course, queue or time range, list them first,
then queue them again with a fresh retry budget.

A replayed result can only change the learner's problem while the LMS still waits for that queue key:
if a failure notice for the same submission was delivered, the notice consumed the key and the learner
must submit again. ``describe`` says so for each delivery. Replaying a result withdraws the failure
notices of its submission that have not been delivered, so a notice can never overtake the grade; a
notice is replayed only when asked for by id.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from xqueue_bridge.models import Delivery
from xqueue_bridge.outbox.attempts import superseded
from xqueue_bridge.outbox.queueing import start_after_commit


def select(*, ids=None, course_id: str | None = None, queue_name: str | None = None,
           since: datetime | None = None, until: datetime | None = None,
           status: str | None = Delivery.Status.DEAD) -> QuerySet:
    """Deliveries matching every filter given; results only unless ids are named."""
    deliveries = Delivery.objects.select_related("submission")
    if status:
        deliveries = deliveries.filter(status=status)
    if ids:
        deliveries = deliveries.filter(pk__in=ids)
    else:
        deliveries = deliveries.filter(kind=Delivery.Kind.RESULT)
    if course_id:
        deliveries = deliveries.filter(submission__course_id=course_id)
    if queue_name:
        deliveries = deliveries.filter(submission__queue_name=queue_name)
    if since:
        deliveries = deliveries.filter(created_at__gte=since)
    if until:
        deliveries = deliveries.filter(created_at__lt=until)
    return deliveries.order_by("id")


def describe(delivery: Delivery) -> str:
    """A line on what replaying ``delivery`` can achieve."""
    notice_delivered = Delivery.objects.filter(
        submission_id=delivery.submission_id, kind=Delivery.Kind.FAILURE_NOTICE, status=Delivery.Status.DELIVERED
    ).exists()
    if delivery.kind == Delivery.Kind.RESULT and notice_delivered:
        return "a failure notice already reached the learner: the LMS no longer waits for this key"
    if superseded(delivery.submission):
        return "the learner submitted again since: it will be withdrawn, not delivered"
    return "will be delivered again"


def replay(deliveries: QuerySet, *, changed_by: str) -> list[int]:
    """Queue the given dead deliveries again with a fresh retry budget (attempts and age); returns their ids."""
    replayed = []
    for delivery in deliveries:
        with transaction.atomic():
            updated = Delivery.move(
                Delivery.objects.filter(pk=delivery.pk), delivery.status, Delivery.Status.PENDING,
                attempts=0, next_attempt_at=timezone.now(),
                budget_started_at=timezone.now(),
                lease_token="", lease_expires_at=None, finished_at=None,
                last_error=f"replayed by {changed_by} at {timezone.now():%Y-%m-%d %H:%M:%S} UTC "
                f"after: {delivery.last_error}"[:2000],
            )
            if updated:
                if delivery.kind == Delivery.Kind.RESULT:
                    notices = Delivery.objects.filter(
                        submission_id=delivery.submission_id, kind=Delivery.Kind.FAILURE_NOTICE
                    )
                    Delivery.move(
                        notices,
                        (Delivery.Status.PENDING, Delivery.Status.DEAD), Delivery.Status.WITHDRAWN,
                        finished_at=timezone.now(), lease_token="",
                        lease_expires_at=None, last_error=f"withdrawn: the result was replayed by {changed_by}",
                    )
                start_after_commit(delivery.pk)
                replayed.append(delivery.pk)
    return replayed
