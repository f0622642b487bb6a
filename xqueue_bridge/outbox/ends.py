"""
The receiving ends of one event-path delivery: which confirmed the result, so that a retry sends only to
those that have not (an event reaches the bus once per result unless the bus write itself failed).

An end's confirmation is kept even when the attempt lost its lease: the end did take the result. The
attempt records its ends in the same write transaction as its outcome (``attempts._record``).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from xqueue_bridge.data import EndOutcome
from xqueue_bridge.models import Delivery, DeliveryEnd


def confirmed_ends(delivery: Delivery) -> frozenset[str]:
    """The ends that took this delivery's result at an earlier attempt."""
    return frozenset(
        DeliveryEnd.objects.filter(delivery=delivery, status=DeliveryEnd.Status.CONFIRMED).values_list("end", flat=True)
    )


def record_ends(delivery: Delivery, outcomes: tuple[EndOutcome, ...], errors: dict[str, str]) -> None:
    """Count an attempt at each end that was sent to; confirm those that took it (``errors``: redacted, by end)."""
    now = timezone.now()
    for outcome in outcomes:
        row = _row(delivery, outcome.end)
        mine = DeliveryEnd.objects.filter(pk=row.pk)
        mine.update(attempts=F("attempts") + 1)
        if outcome.ok:
            DeliveryEnd.move(mine, DeliveryEnd.Status.PENDING, DeliveryEnd.Status.CONFIRMED, confirmed_at=now,
                             last_error="")
        else:
            mine.filter(status=DeliveryEnd.Status.PENDING).update(last_error=errors.get(outcome.end, ""))


def _row(delivery: Delivery, end: str) -> DeliveryEnd:
    try:
        with transaction.atomic():
            return DeliveryEnd.objects.get_or_create(delivery=delivery, end=end)[0]
    except IntegrityError:  # another process recorded the same end first
        return DeliveryEnd.objects.get(delivery=delivery, end=end)
