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
    """
    Count an attempt at each end that was sent to; confirm those that took it (``errors``: redacted, by end).
    An end's row is written at its first attempt with that attempt's outcome (one INSERT); later attempts
    update it (one UPDATE).
    """
    now = timezone.now()
    for outcome in outcomes:
        error = "" if outcome.ok else errors.get(outcome.end, "")
        if not _count_again(delivery, outcome, error, now) and not _first(delivery, outcome, error, now):
            _count_past_others(delivery, outcome, error, now)


def _count_again(delivery: Delivery, outcome: EndOutcome, error: str, now) -> bool:
    """Count one more attempt at an end sent to before and still pending; False if there is no such row."""
    pending = DeliveryEnd.objects.filter(delivery=delivery, end=outcome.end)
    attempts = F("attempts") + 1
    if outcome.ok:
        return bool(DeliveryEnd.move(pending, DeliveryEnd.Status.PENDING, DeliveryEnd.Status.CONFIRMED,
                                     attempts=attempts, confirmed_at=now, last_error=""))
    return bool(pending.filter(status=DeliveryEnd.Status.PENDING).update(attempts=attempts, last_error=error))


def _first(delivery: Delivery, outcome: EndOutcome, error: str, now) -> bool:
    """Write the end's row with its first attempt; False if a row was there already (written meanwhile)."""
    status = DeliveryEnd.Status.CONFIRMED if outcome.ok else DeliveryEnd.Status.PENDING
    try:
        with transaction.atomic():
            DeliveryEnd.objects.create(delivery=delivery, end=outcome.end, status=status, attempts=1,
                                       last_error=error, confirmed_at=now if outcome.ok else None)
    except IntegrityError:
        return False
    return True


def _count_past_others(delivery: Delivery, outcome: EndOutcome, error: str, now) -> None:
    """
    The end's row appeared meanwhile, or it is confirmed already (by an attempt whose lease expired): count
    this attempt on it; a confirmation stays.
    """
    if not _count_again(delivery, outcome, error, now):
        DeliveryEnd.objects.filter(delivery=delivery, end=outcome.end).update(attempts=F("attempts") + 1)
