"""
Where a comparison runs, and the bound that keeps it close behind its result.

With DELIVERY_MODE "thread" (the embedded default) comparisons run in one thread per process of their own,
each starting no sooner than SHADOW["START_DELAY"] after its trigger (docs/decisions/0008) and never later
than SHADOW["MAX_LAG"]: one the thread reaches later than that is shed, its ``shed`` callable recording
why, at the cost of one write (docs/decisions/0013). Comparisons are CPU work under one interpreter lock,
so more threads would not catch up; the bound is what keeps them within MAX_LAG under any load. With
"celery", "worker" and "sync" the comparison runs at once in the caller (a task, the worker, the test).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from xqueue_bridge.conf import get_setting

log = logging.getLogger(__name__)

# The clock of the bound (a module attribute, so that tests can move it).
clock = time.monotonic

_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()
_waiting = 0


def _shadow_thread() -> ThreadPoolExecutor:
    """One thread per process for comparisons: they never hold up a delivery thread."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="xqb-shadow")
        return _executor


def waiting() -> int:
    """Comparisons queued in this process's shadow thread or running there."""
    return _waiting


def shed_reason(waiting_now: int, behind: float, max_lag: float) -> str:
    """Why a comparison was not conducted, as the operator reads it on the row and in the log."""
    return (
        f"shed under load: {behind:.1f} s behind its trigger, {waiting_now} comparisons waiting in this "
        f"process (SHADOW['MAX_LAG'] {max_lag:g} s)"
    )


def _too_late(triggered: float) -> str | None:
    """The reason to shed a comparison triggered at ``triggered`` (clock seconds), or None to conduct it."""
    max_lag = get_setting("SHADOW")["MAX_LAG"]
    behind = clock() - triggered
    if max_lag is None or behind <= float(max_lag):
        return None
    return shed_reason(_waiting, behind, float(max_lag))


def _in_shadow_thread(job: Callable[[], object], shed: Callable[[str], object], triggered: float) -> None:
    global _waiting
    try:
        # Start no sooner than START_DELAY after the trigger: the grader's answer is on its way by then,
        # and the comparison's CPU work does not compete with it. A backlog does not wait again.
        time.sleep(max(0.0, triggered + float(get_setting("SHADOW")["START_DELAY"]) - clock()))
        reason = _too_late(triggered)
        if reason is None:
            job()
        else:
            log.info("shadow comparison not conducted: %s", reason)
            shed(reason)
    except Exception:
        log.exception("shadow comparison failed unexpectedly")
    finally:
        with _lock:
            _waiting -= 1
        connection.close()


def later(job: Callable[[], object], shed: Callable[[str], object]) -> None:
    """
    Run ``job`` now (DELIVERY_MODE "sync", "celery", "worker"), or in the shadow thread ("thread"), where
    ``shed(reason)`` runs instead if the thread reaches it more than MAX_LAG after now.
    """
    global _waiting
    if get_setting("DELIVERY_MODE") != "thread":
        job()
        return
    triggered = clock()
    with _lock:
        _waiting += 1
    try:
        _shadow_thread().submit(_in_shadow_thread, job, shed, triggered)
    except Exception:  # e.g. the interpreter is shutting down
        with _lock:
            _waiting -= 1
        raise
