"""
Durable delivery: the outbox of results waiting to reach the LMS.

A Delivery row is written in the same transaction as the accepted reply. After commit it is attempted
(in a thread of the web process, inline, or by a Celery task, per DELIVERY_MODE); ``xqueue-bridge worker``
and the drainer of ``serve`` pick up whatever is due. An attempt first claims the row under a lease, then
sends outside any transaction (a callback is never sent from a transaction that could still roll back),
then records the outcome only if it still holds the lease. A process that dies mid-attempt loses the
lease, and the row is claimed again when it expires: transport is at-least-once, and the sink is
idempotent on the queue key, so the learner is updated once.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import timedelta

import attr
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from xqueue_bridge import signals
from xqueue_bridge.conf import get_setting
from xqueue_bridge.data import DeliveryResult
from xqueue_bridge.models import Delivery, Path
from xqueue_bridge.paths import callback as callback_path
from xqueue_bridge.paths import event as event_path
from xqueue_bridge.retry import RetryPolicy

log = logging.getLogger(__name__)

FAILURE_NOTICE_MSG = (
    '<div class="capa_alert">This submission could not be graded. Please check it and submit it again; '
    "if that does not help, tell the course staff.</div>"
)

# What is kept of an attempt's error (after redaction) in the row and the logs.
MAX_ERROR_CHARS = 2000
WITHDRAWN_REASON = "withdrawn: the learner submitted again before it was delivered"

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_in_flight: set[Future] = set()  # attempts submitted to the pool and not finished
# Other outboxes (the shadow comparison's) drained by the same worker loop: callables returning a count.
_extra_drainers: list[Callable[[int], int]] = []


def register_drainer(drainer: Callable[[int], int]) -> None:
    """Have ``drain`` (and so the worker) also call ``drainer(limit)``; it returns how much it did."""
    if drainer not in _extra_drainers:
        _extra_drainers.append(drainer)


def redact(text: str, *secrets_: str) -> str:
    """``text`` with every secret in it replaced, so it can be logged and stored."""
    for secret in secrets_:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def failure_notice_body() -> str:
    return json.dumps({"correct": None, "score": 0, "msg": FAILURE_NOTICE_MSG})


# --- after commit ------------------------------------------------------------------------------------


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=get_setting("DELIVERY_THREADS"), thread_name_prefix="xqb-delivery"
            )
        return _executor


def _in_thread(delivery_id: int) -> None:
    close_old_connections()  # as a request does: drop a connection past CONN_MAX_AGE or broken
    try:
        attempt(delivery_id)
    except Exception:  # never lose the thread; the row stays pending and the worker retries it
        log.exception("delivery %s: attempt failed unexpectedly; it stays pending", delivery_id)
    finally:
        close_old_connections()  # keeps the pool thread's connection for the next attempt within CONN_MAX_AGE


def _send_celery_task(delivery_id: int) -> None:
    """Queue the ``deliver`` task on CELERY_APP (the standalone app), or on the current app inside a project."""
    app_path = get_setting("CELERY_APP")
    if app_path:
        import_string(app_path).send_task("xqueue_bridge.deliver", args=[delivery_id])
    else:
        from xqueue_bridge import tasks

        tasks.deliver.delay(delivery_id)


def dispatch_after_commit(delivery_id: int) -> None:
    """
    Arrange for the delivery to be attempted once the current transaction commits.

    The handlers are robust: the reply is committed by then, so a failure to start the attempt (a broker
    that is down, a thread pool shut down) is logged and leaves the row pending for the drainer, instead of
    turning an accepted reply into an error answer.
    """
    mode = get_setting("DELIVERY_MODE")
    if mode == "sync":
        transaction.on_commit(lambda: attempt(delivery_id), robust=True)
    elif mode == "thread":
        transaction.on_commit(lambda: _submit_to_pool(delivery_id), robust=True)
    elif mode == "celery":
        transaction.on_commit(lambda: _send_celery_task(delivery_id), robust=True)
    elif mode != "worker":
        from xqueue_bridge.errors import ConfigurationError

        raise ConfigurationError(f"DELIVERY_MODE {mode!r}: expected thread, sync, celery or worker")


def _submit_to_pool(delivery_id: int) -> None:
    future = _pool().submit(_in_thread, delivery_id)
    with _executor_lock:
        _in_flight.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future) -> None:
    with _executor_lock:
        _in_flight.discard(future)


def wait_for_threads(timeout: float = 30.0) -> bool:
    """Block until the thread pool is idle, including attempts queued by attempts (tests, demo, shutdown)."""
    deadline = time.monotonic() + timeout
    while True:
        with _executor_lock:
            pending = set(_in_flight)
        if not pending:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0 or wait(pending, timeout=remaining).not_done:
            return False


# --- one attempt -------------------------------------------------------------------------------------


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


def send(delivery: Delivery) -> DeliveryResult:
    """Hand the delivery's reply to its path's transport once."""
    if delivery.path == Path.CALLBACK:
        return callback_path.deliver(delivery.submission, delivery.body)
    return event_path.deliver(event_path.score_from_fields(delivery.event_data))


def attempt(delivery_id: int) -> DeliveryResult | None:
    """Claim, send and record one attempt of a delivery. Returns None if it was not ours to attempt."""
    token = _claim(delivery_id)
    if token is None:
        return None
    delivery = Delivery.objects.select_related("submission").get(pk=delivery_id)
    if superseded(delivery.submission):
        _withdraw(delivery, token)
        return None
    try:
        result = send(delivery)
    except Exception as exc:  # a bug in a transport must not leave the lease held until it expires
        result = DeliveryResult(ok=False, duration=0.0, error=f"{type(exc).__name__}: {exc}")
    _record(delivery, token, result)
    return result


def superseded(submission) -> bool:
    """Whether the learner submitted the same problem again (same callback URL) after ``submission``."""
    from xqueue_bridge.models import Submission

    return Submission.objects.filter(callback_digest=submission.callback_digest, pk__gt=submission.pk).exists()


def _withdraw(delivery: Delivery, token: str) -> None:
    """
    Give up a claimed delivery whose submission was superseded, without sending it. Its result can no
    longer score (the LMS waits for the newer submission's key), and an invalid one would even un-queue
    the newer submission (capa clears the queue state before it checks the key). The reply stays recorded.
    """
    reason = WITHDRAWN_REASON + (f" (last error: {delivery.last_error})" if delivery.last_error else "")
    updated = Delivery.objects.filter(pk=delivery.pk, lease_token=token, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.WITHDRAWN, finished_at=timezone.now(), lease_token="", lease_expires_at=None,
        last_error=reason[:MAX_ERROR_CHARS], attempts=F("attempts") - 1,  # the claim sent nothing
    )
    if updated:
        log.info("delivery %s of submission %s withdrawn: the learner submitted again",
                 delivery.pk, delivery.submission_id)


def _record(delivery: Delivery, token: str, result: DeliveryResult) -> None:
    now = timezone.now()
    mine = Delivery.objects.filter(pk=delivery.pk, lease_token=token, status=Delivery.Status.PENDING)
    # Redact before cutting to length, so that no part of a secret survives at the cut.
    error = redact(result.error or "", delivery.submission.lms_key, delivery.submission.pullkey)[:MAX_ERROR_CHARS]
    result = attr.evolve(result, error=error or None)
    final = True
    if result.ok:
        updated = mine.update(
            status=Delivery.Status.DELIVERED, finished_at=now, duration=result.duration,
            lease_token="", lease_expires_at=None, last_error="",
        )
        delivery.status = Delivery.Status.DELIVERED
    else:
        policy = RetryPolicy.from_settings()
        age = (now - delivery.budget_started_at).total_seconds()
        if not result.retryable or policy.exhausted(delivery.attempts, age):
            with transaction.atomic():
                updated = mine.update(
                    status=Delivery.Status.DEAD, finished_at=now, last_error=error,
                    lease_token="", lease_expires_at=None,
                )
                if updated:
                    _notify_learner(delivery)
            delivery.status = Delivery.Status.DEAD
            if updated:
                log.error("delivery %s of submission %s given up after %s attempts: %s",
                          delivery.pk, delivery.submission_id, delivery.attempts, error)
        else:
            final = False
            updated = mine.update(
                next_attempt_at=now + timedelta(seconds=policy.delay(delivery.attempts)),
                last_error=error, lease_token="", lease_expires_at=None,
            )
            if updated:
                log.warning("delivery %s of submission %s failed (attempt %s), will retry: %s",
                            delivery.pk, delivery.submission_id, delivery.attempts, error)
    if not updated:
        log.warning("delivery %s: lease lost before the outcome was recorded; another attempt owns it",
                    delivery.pk)
        return
    delivery.last_error = error
    signals.delivery_finished.send(sender=Delivery, delivery=delivery, result=result, final=final)


def _notify_learner(dead: Delivery) -> None:
    """After a result is given up, queue the failure notice (XQueue's habit) so no learner waits forever."""
    if dead.kind != Delivery.Kind.RESULT or not get_setting("NOTIFY_LEARNER_ON_FAILURE"):
        return
    enqueue_failure_notice(dead.submission, path=dead.path)


def enqueue_failure_notice(submission, *, path: str) -> Delivery:
    """Queue a failure notice to the learner over ``path`` (inside the caller's transaction)."""
    body = failure_notice_body()
    event_data = None
    if path == Path.EVENT:  # the event edx-submissions would build for this reply: 0 points
        event_data = attr.asdict(event_path.interpret(submission, body).score)
    notice = Delivery.objects.create(
        submission=submission, kind=Delivery.Kind.FAILURE_NOTICE, path=path, body=body, event_data=event_data
    )
    dispatch_after_commit(notice.pk)
    return notice


# --- draining ----------------------------------------------------------------------------------------


def due_ids(limit: int) -> list[int]:
    now = timezone.now()
    return list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def drain(limit: int = 100) -> int:
    """Attempt every due delivery (up to ``limit``) and run the other drainers; returns the work done."""
    done = 0
    for delivery_id in due_ids(limit):
        if attempt(delivery_id) is not None:
            done += 1
    for drainer in list(_extra_drainers):
        try:
            done += drainer(limit)
        except Exception:
            log.exception("drainer %r failed; it runs again on the next pass", drainer)
    return done


def run_worker(*, poll_interval: float | None = None, stop: threading.Event | None = None,
               max_idle_passes: int | None = None) -> None:
    """Drain until ``stop`` is set (or after ``max_idle_passes`` passes with nothing to do)."""
    interval = get_setting("WORKER_POLL_INTERVAL") if poll_interval is None else poll_interval
    stop = stop or threading.Event()
    idle = 0
    while not stop.is_set():
        close_old_connections()
        try:
            worked = drain()
        except Exception:
            log.exception("worker pass failed; trying again after %.1f s", interval)
            worked = 0
        idle = 0 if worked else idle + 1
        if max_idle_passes is not None and idle >= max_idle_passes:
            break
        if not worked:
            stop.wait(interval)
    connection.close()


def start_drainer_thread() -> threading.Event:
    """Run ``run_worker`` in a daemon thread of this process; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, kwargs={"stop": stop}, name="xqb-drainer", daemon=True)
    thread.start()
    return stop

