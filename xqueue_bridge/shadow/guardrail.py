"""
The guardrail (opt-in, GUARDRAIL["ENABLED"]): a course whose event path misbehaves goes back to
``shadow_callback``, where the learner is served by the callback again while the comparison goes on.

A course in ``shadow_event`` or ``event`` is moved back when, over the last WINDOW_HOURS (counted from
its last guardrail move at the latest) and at least MIN_COMPARISONS results, either rate is above its
maximum:

* the **mismatch rate**: mismatched / decided comparisons of its shadow_event and event submissions
  (the noise baseline and comparisons shed under load left out);
* the **error rate**: results the event path failed. From comparisons: those whose control (the event
  path) ended in an error (a refused reply, an undeliverable result...; a duplicate is none) or that
  errored, out of every result compared or shed (a shed result keeps the failures known without a dry
  run: a refused reply, a delivery given up). For ``event``
  submissions, which are not compared: refused replies and given-up deliveries among all replies.

The move is a course override written with ``rollout.set_stage(course, "shadow_callback",
reason=..., changed_by="guardrail")``, a warning in the log and a ``GuardrailMove`` row. Shadow_event
courses are checked after each of their comparisons (two aggregate queries); event courses by the
worker, every CHECK_INTERVAL seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

import attr
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from xqueue_bridge.conf import get_setting
from xqueue_bridge.models import Delivery, Stage, Submission
from xqueue_bridge.shadow.models import Comparison, GuardrailMove
from xqueue_bridge.stage import rollout

log = logging.getLogger(__name__)

GUARDED = (Stage.SHADOW_EVENT.value, Stage.EVENT.value)
CHANGED_BY = "guardrail"
# Control errors that are no failure of the event path: none, and a grader's retry of an accepted reply
# (the bridge answers it with success; only edx-submissions would answer 500).
NOT_FAILURES = ("", "duplicate_reply")

_last_periodic = 0.0
_lock = threading.Lock()


@attr.frozen
class Window:
    """The figures of one course over the guardrail's window."""

    course_id: str
    since: datetime
    results: int
    mismatch_rate: float | None
    error_rate: float | None
    mismatched: int = 0
    decided: int = 0
    errors: int = 0


def window_start(course_id: str, hours: float, now: datetime | None = None) -> datetime:
    """The start of the window: ``hours`` ago, or the course's last guardrail move if later."""
    start = (now or timezone.now()) - timedelta(hours=hours)
    last_move = GuardrailMove.objects.filter(course_id=course_id).aggregate(last=Max("created_at"))["last"]
    return max(start, last_move) if last_move else start


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def compared_window(course_id: str, since: datetime) -> Window:
    """Rates from the comparisons of the course's shadow_event and event submissions since ``since``."""
    statuses = Comparison.Status
    counts = Comparison.objects.filter(
        course_id=course_id, stage__in=GUARDED, noise=False, created_at__gte=since
    ).exclude(status=Comparison.Status.PENDING).aggregate(
        # Shed under load: a result of the window, and an error if its control's failure was known without
        # a dry run (a refused reply, a delivery given up); no evidence for or against a mismatch.
        total=Count("id"),
        decided=Count("id", filter=Q(status__in=Comparison.DECIDED)),
        mismatched=Count("id", filter=Q(status=statuses.MISMATCHED)),
        errors=Count("id", filter=Q(status=statuses.ERRORED) | ~Q(control_error__in=NOT_FAILURES)),
    )
    return Window(
        course_id=course_id, since=since, results=counts["total"],
        mismatch_rate=_rate(counts["mismatched"], counts["decided"]),
        error_rate=_rate(counts["errors"], counts["total"]),
        mismatched=counts["mismatched"], decided=counts["decided"], errors=counts["errors"],
    )


def delivered_window(course_id: str, since: datetime) -> Window:
    """Error rate of the course's event submissions since ``since``: refused replies and dead deliveries."""
    deliveries = Delivery.objects.filter(
        submission__course_id=course_id, submission__stage=Stage.EVENT, kind=Delivery.Kind.RESULT,
        created_at__gte=since,
    ).exclude(status=Delivery.Status.WITHDRAWN, attempts=0).aggregate(  # never tried: no outcome to count
        total=Count("id"),
        # Given up, or still failing when the learner submitted again (withdrawn after failed attempts).
        dead=Count("id", filter=Q(status__in=[Delivery.Status.DEAD, Delivery.Status.WITHDRAWN])),
    )
    refused = Submission.objects.filter(
        course_id=course_id, stage=Stage.EVENT, grading_failures__gt=0, status_changed_at__gte=since
    ).aggregate(refusals=Sum("grading_failures"))["refusals"] or 0
    total = deliveries["total"] + refused
    errors = deliveries["dead"] + refused
    return Window(course_id=course_id, since=since, results=total, mismatch_rate=None,
                  error_rate=_rate(errors, total), errors=errors)


def _percent(rate: float) -> str:
    return f"{100 * rate:.1f}%"


def verdict(window: Window) -> str | None:
    """Why ``window`` exceeds a threshold (the reason of the move), or None."""
    limits = get_setting("GUARDRAIL")
    if window.results < int(limits["MIN_COMPARISONS"]):
        return None
    hours = f"{float(limits['WINDOW_HOURS']):g} h"
    if window.mismatch_rate is not None and window.mismatch_rate > float(limits["MAX_MISMATCH_RATE"]):
        return (
            f"guardrail: mismatch rate {_percent(window.mismatch_rate)} ({window.mismatched} of {window.decided} "
            f"comparisons in {hours}) is above {_percent(float(limits['MAX_MISMATCH_RATE']))}"
        )
    if window.error_rate is not None and window.error_rate > float(limits["MAX_ERROR_RATE"]):
        return (
            f"guardrail: event path error rate {_percent(window.error_rate)} ({window.errors} of "
            f"{window.results} results in {hours}) is above {_percent(float(limits['MAX_ERROR_RATE']))}"
        )
    return None


def check_course(course_id: str, now: datetime | None = None):
    """Move ``course_id`` back to shadow_callback if its figures say so; returns the GuardrailMove or None."""
    limits = get_setting("GUARDRAIL")
    if not limits["ENABLED"]:
        return None
    stage = rollout.stage_of(course_id).stage
    if stage not in GUARDED:
        return None
    since = window_start(course_id, float(limits["WINDOW_HOURS"]), now)
    windows = [compared_window(course_id, since)]
    if stage == Stage.EVENT:
        windows.append(delivered_window(course_id, since))
    for window in windows:
        reason = verdict(window)
        if reason is None:
            continue
        rollout.set_stage(course_id, Stage.SHADOW_CALLBACK.value, reason=reason, changed_by=CHANGED_BY)
        move = GuardrailMove.objects.create(
            course_id=course_id, from_stage=stage, to_stage=Stage.SHADOW_CALLBACK.value, reason=reason[:255],
            results=window.results, mismatch_rate=window.mismatch_rate, error_rate=window.error_rate,
        )
        log.warning("guardrail moved %s from %s back to shadow_callback: %s", course_id, stage, reason)
        return move
    return None


def after_comparison(comparison) -> None:
    """Check the comparison's course if it was compared in a guarded stage (cheap when disabled)."""
    if comparison.stage in GUARDED and get_setting("GUARDRAIL")["ENABLED"]:
        check_course(comparison.course_id)


def periodic_check(force: bool = False) -> int:
    """
    Check every course with event submissions in the window, at most every CHECK_INTERVAL seconds per
    process (``force`` skips the wait); returns how many courses were moved back.
    """
    global _last_periodic
    limits = get_setting("GUARDRAIL")
    if not limits["ENABLED"]:
        return 0
    with _lock:
        if not force and time.monotonic() - _last_periodic < float(limits["CHECK_INTERVAL"]):
            return 0
        _last_periodic = time.monotonic()
    since = timezone.now() - timedelta(hours=float(limits["WINDOW_HOURS"]))
    courses = (
        Submission.objects.filter(stage=Stage.EVENT, created_at__gte=since)
        .order_by().values_list("course_id", flat=True).distinct()
    )
    moved = 0
    for course_id in list(courses):
        try:
            moved += check_course(course_id) is not None
        except Exception:
            log.exception("guardrail check of %s failed", course_id)
    return moved
