"""
Who runs the outbox's attempts, per DELIVERY_MODE: a thread pool of the web process right after commit
("thread"), the committing thread itself ("sync"), a Celery task ("celery"), or only the drainer
("worker"). The drainer (``run_worker``: ``xqueue-bridge worker`` and a thread of each ``serve`` worker)
picks up whatever is due: retries, and attempts a runner never started.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from django.db import close_old_connections, connection
from django.utils.module_loading import import_string

from xqueue_bridge.conf import get_setting
from xqueue_bridge.errors import ConfigurationError
from xqueue_bridge.outbox.attempts import attempt, due_ids

log = logging.getLogger(__name__)

DELIVERY_MODES = ("thread", "sync", "celery", "worker")
CELERY_TASK = "xqueue_bridge.deliver"  # the name outbox.tasks registers; sent by name, never imported

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_in_flight: set[Future] = set()  # attempts submitted to the pool and not finished
# Other outboxes (the shadow comparison's) drained by the same worker loop: callables returning a count.
_extra_drainers: list[Callable[[int], int]] = []


def register_drainer(drainer: Callable[[int], int]) -> None:
    """Have ``drain`` (and so the worker) also call ``drainer(limit)``; it returns how much it did."""
    if drainer not in _extra_drainers:
        _extra_drainers.append(drainer)


# --- after commit ------------------------------------------------------------------------------------


def start_attempt(sender=None, *, delivery_id: int, lease_token: str | None = None, **kwargs) -> None:
    """
    Receiver of ``signals.delivery_enqueued``: start an attempt the way DELIVERY_MODE says (``lease_token``:
    the row was written claimed, attempt it under that lease; another runner leaves it to expire).
    """
    mode = get_setting("DELIVERY_MODE")
    if mode == "sync":
        attempt(delivery_id, lease_token=lease_token)
    elif mode == "thread":
        _submit_to_pool(delivery_id, lease_token)
    elif mode == "celery":
        _send_celery_task(delivery_id)
    elif mode != "worker":
        raise ConfigurationError(f"DELIVERY_MODE {mode!r}: expected one of {', '.join(DELIVERY_MODES)}")


def _send_celery_task(delivery_id: int) -> None:
    """Queue the attempt on CELERY_APP (the standalone app), or on the current app inside a project."""
    app_path = get_setting("CELERY_APP")
    if app_path:
        app = import_string(app_path)
    else:
        from celery import current_app as app  # celery is an optional dependency (extra "services")
    app.send_task(CELERY_TASK, args=[delivery_id])


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=get_setting("DELIVERY_THREADS"), thread_name_prefix="xqb-delivery"
            )
        return _executor


def _in_thread(delivery_id: int, lease_token: str | None = None) -> None:
    close_old_connections()  # as a request does: drop a connection past CONN_MAX_AGE or broken
    try:
        attempt(delivery_id, lease_token=lease_token)
    except Exception:  # never lose the thread; the row stays pending and the worker retries it
        log.exception("delivery %s: attempt failed unexpectedly; it stays pending", delivery_id)
    finally:
        close_old_connections()  # keeps the pool thread's connection for the next attempt within CONN_MAX_AGE


def _submit_to_pool(delivery_id: int, lease_token: str | None = None) -> None:
    future = _pool().submit(_in_thread, delivery_id, lease_token)
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


# --- draining ----------------------------------------------------------------------------------------


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
