"""
One attempt of a delivery: claim it under a lease, send it over its path's transport outside any
transaction (a callback is never sent from a transaction that could still roll back), then record the
outcome only if the lease is still ours.

A process that dies mid-attempt loses the lease, and the row is claimed again when it expires: transport
is at-least-once, and the receiving end is idempotent on the queue key, so the learner is updated once.
Who calls ``attempt`` (a thread after commit, the worker, a Celery task) is ``xqueue_bridge.outbox.runners``.
"""

from __future__ import annotations

import logging
import secrets
from contextlib import nullcontext
from datetime import timedelta

import attr
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from xqueue_bridge import signals
from xqueue_bridge.conf import get_setting
from xqueue_bridge.data import DeliveryResult
from xqueue_bridge.models import Delivery, DeliveryPath, Submission
from xqueue_bridge.outbox.ends import confirmed_ends, record_ends
from xqueue_bridge.outbox.queueing import enqueue_failure_notice
from xqueue_bridge.outbox.retry import RetryPolicy
from xqueue_bridge.redaction import redact
from xqueue_bridge.transports.callback import post_callback
from xqueue_bridge.transports.event import score_from_fields, send_score_event

log = logging.getLogger(__name__)

# What is kept of an attempt's error (after redaction) in the row and the logs.
MAX_ERROR_CHARS = 2000
WITHDRAWN_REASON = "withdrawn: the learner submitted again before it was delivered"


def _claim(delivery_id: int) -> str | None:
    """Take the lease on a due delivery; None if it is not due, finished, or held by someone else."""
    now = timezone.now()
    token = secrets.token_hex(8)
    claimed = (
        Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .update(
            lease_token=token,
            lease_expires_at=now + timedelta(seconds=get_setting("DELIVERY_LEASE")),
            attempts=F("attempts") + 1,
        )
    )
    return token if claimed else None


def transmit(delivery: Delivery) -> DeliveryResult:
    """Hand the delivery's reply to its path's transport once (the event: to the ends that have not taken it)."""
    if delivery.path == DeliveryPath.CALLBACK:
        return post_callback(delivery.submission, delivery.body)
    return send_score_event(score_from_fields(delivery.event_data), confirmed=confirmed_ends(delivery))


def _loaded():
    """Deliveries with their submission, and whether the learner submitted the same problem again since
    (``newer``: see ``superseded``), read in one query."""
    newer = Submission.objects.filter(callback_digest=OuterRef("submission__callback_digest"),
                                      pk__gt=OuterRef("submission_id"))
    return Delivery.objects.select_related("submission").annotate(newer=Exists(newer))


def _held(delivery_id: int, token: str) -> Delivery | None:
    """The delivery if ``token`` still holds its lease (it was written claimed); None once the lease expired."""
    return _loaded().filter(
        pk=delivery_id, status=Delivery.Status.PENDING, lease_token=token, lease_expires_at__gt=timezone.now()
    ).first()


def attempt(delivery_id: int, *, lease_token: str | None = None) -> DeliveryResult | None:
    """
    Claim, send and record one attempt of a delivery. Returns None if it was not ours to attempt.
    ``lease_token``: the row was written claimed under it (``queueing.enqueue``), so no claim is taken;
    a lease that expired meanwhile is not ours any more (the drainer claims the row afresh).
    """
    if lease_token is None:
        token = _claim(delivery_id)
        if token is None:
            return None
        delivery = _loaded().get(pk=delivery_id)
    else:
        token = lease_token
        delivery = _held(delivery_id, token)
        if delivery is None:
            log.info("delivery %s: its lease expired before the attempt started; the drainer claims it", delivery_id)
            return None
    if delivery.newer:
        _withdraw(delivery, token)
        return None
    try:
        result = transmit(delivery)
    except Exception as exc:  # a bug in a transport must not leave the lease held until it expires
        result = DeliveryResult(ok=False, duration=0.0, error=f"{type(exc).__name__}: {exc}")
    _record(delivery, token, result)
    return result


def superseded(submission: Submission) -> bool:
    """Whether the learner submitted the same problem again (same callback URL) after ``submission``."""
    return Submission.objects.filter(callback_digest=submission.callback_digest, pk__gt=submission.pk).exists()


def _withdraw(delivery: Delivery, token: str) -> None:
    """
    Give up a claimed delivery whose submission was superseded, without sending it. Its result can no
    longer score (the LMS waits for the newer submission's key), and an invalid one would even un-queue
    the newer submission (capa clears the queue state before it checks the key). The reply stays recorded.
    """
    reason = WITHDRAWN_REASON + (f" (last error: {delivery.last_error})" if delivery.last_error else "")
    updated = Delivery.move(
        Delivery.objects.filter(pk=delivery.pk, lease_token=token), Delivery.Status.PENDING, Delivery.Status.WITHDRAWN,
        finished_at=timezone.now(), lease_token="", lease_expires_at=None,
        last_error=reason[:MAX_ERROR_CHARS], attempts=F("attempts") - 1,  # the claim sent nothing
    )
    if updated:
        log.info("delivery %s of submission %s withdrawn: the learner submitted again",
                 delivery.pk, delivery.submission_id)


def _record(delivery: Delivery, token: str, result: DeliveryResult) -> None:
    """
    Record the attempt's outcome, if the lease is still ours, in one write transaction with the outcome at
    each receiving end (which is kept whoever holds the lease: the end did take the result).
    """
    now = timezone.now()
    # Redact before cutting to length, so that no part of a secret survives at the cut.
    secrets_ = (delivery.submission.lms_key, delivery.submission.pullkey)
    error = redact(result.error or "", *secrets_)[:MAX_ERROR_CHARS]
    result = attr.evolve(result, error=error or None)
    # One write transaction for the ends and the outcome (and a dead delivery's notice to the learner).
    with transaction.atomic() if result.ends or not result.ok else nullcontext():
        if result.ends:  # each end's outcome is a fact, whoever holds the lease now
            record_ends(delivery, result.ends, {
                outcome.end: redact(outcome.error, *secrets_)[:MAX_ERROR_CHARS]
                for outcome in result.ends if outcome.error
            })
        updated, final = _record_outcome(delivery, token, result, now)
    if not updated:
        log.warning("delivery %s: lease lost before the outcome was recorded; another attempt owns it",
                    delivery.pk)
        return
    if delivery.status == Delivery.Status.DEAD:
        log.error("delivery %s of submission %s given up after %s attempts: %s",
                  delivery.pk, delivery.submission_id, delivery.attempts, result.error or "")
    elif not final:
        log.warning("delivery %s of submission %s failed (attempt %s), will retry: %s",
                    delivery.pk, delivery.submission_id, delivery.attempts, result.error or "")
    delivery.last_error = result.error or ""
    signals.delivery_finished.send(sender=Delivery, delivery=delivery, result=result, final=final)


def _record_outcome(delivery: Delivery, token: str, result: DeliveryResult, now) -> tuple[int, bool]:
    """Move the delivery on by the outcome (inside ``_record``'s transaction); (rows updated, final)."""
    mine = Delivery.objects.filter(pk=delivery.pk, lease_token=token, status=Delivery.Status.PENDING)
    pending = Delivery.Status.PENDING
    error = result.error or ""
    if result.ok:
        updated = Delivery.move(
            mine, pending, Delivery.Status.DELIVERED, finished_at=now, duration=result.duration,
            lease_token="", lease_expires_at=None, last_error="",
        )
        delivery.status = Delivery.Status.DELIVERED
        return updated, True
    policy = RetryPolicy.from_settings()
    age = (now - delivery.budget_started_at).total_seconds()
    if not result.retryable or policy.exhausted(delivery.attempts, age):
        updated = Delivery.move(
            mine, pending, Delivery.Status.DEAD, finished_at=now, last_error=error,
            lease_token="", lease_expires_at=None,
        )
        if updated:
            _notify_learner(delivery)
            delivery.status = Delivery.Status.DEAD
        return updated, True
    updated = mine.update(
        next_attempt_at=now + timedelta(seconds=policy.delay(delivery.attempts)),
        last_error=error, lease_token="", lease_expires_at=None,
    )
    return updated, False


def _notify_learner(dead: Delivery) -> None:
    """After a result is given up, queue the failure notice (XQueue's habit) so no learner waits forever."""
    if dead.kind != Delivery.Kind.RESULT or not get_setting("NOTIFY_LEARNER_ON_FAILURE"):
        return
    enqueue_failure_notice(dead.submission, path=dead.path)


def due_ids(limit: int) -> list[int]:
    now = timezone.now()
    return list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
