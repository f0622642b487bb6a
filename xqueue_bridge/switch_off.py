"""
Whether the shim can be switched off: every condition that must hold, and what still stands in the way.

The bridge can go when the LMS no longer needs it for any learner: every course that had submissions in
the last SWITCH_OFF["RECENT_DAYS"] days is in ``event``; no live submission was decided in an older stage
(its result would still take the callback); no delivery is pending, retrying or dead (a result not yet
with the learner); no ignore rule hides a difference; no forced move is left uncleared. The flags' removal
dates are listed beside. ``xqueue-bridge switch-off --check`` prints this (docs/how-to/switch-off.rst).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import attr
from django.utils import timezone

from xqueue_bridge import flags
from xqueue_bridge.conf import get_setting
from xqueue_bridge.models import Delivery, ForcedMove, Stage, Submission
from xqueue_bridge.stage.decide import decide_stage

_ANNOTATION = re.compile(r"^# \.\. (toggle_name|toggle_target_removal_date): (.+)$", re.M)

STEPS = (
    "Every course is on the event path and nothing is left in the bridge. To remove the shim:",
    "1. In the LMS, turn on send_to_submission_course.enable for each course (or org, or everyone): new "
    "submissions go to edx-submissions; or keep the bridge in pure event mode and stop here.",
    "2. Point xqueue-watcher's SERVER at the LMS (edx-submissions' XQueue API) once the bridge's queues are "
    "empty (get_queuelen 0), and run `xqueue-bridge switch-off --check` again: it must stay green.",
    "3. Stop `xqueue-bridge serve` and `xqueue-bridge worker` (or the Celery workers); remove XQUEUE_INTERFACE "
    "from the LMS's settings if nothing else uses it.",
    "4. Remove the flags xqueue_bridge.event_delivery and xqueue_bridge.shadow_compare (their target removal "
    "dates are listed above), and keep the bridge's database for SUBMISSION_RETENTION_DAYS before deleting it.",
)


@attr.frozen
class Blocker:
    """One kind of thing still standing in the way, with the items (courses, ids) and what to do."""

    condition: str
    count: int
    items: tuple[str, ...]
    fix: str


@attr.frozen
class SwitchOffCheck:
    clear: bool
    blockers: tuple[Blocker, ...]
    flags: tuple[dict, ...]  # {"flag": name, "target_removal_date": "YYYY-MM-DD"}
    recent_days: float


def flag_removal_dates() -> tuple[dict, ...]:
    """Each bridge flag's ``toggle_target_removal_date`` annotation, as edx-toggles' report reads it."""
    text = Path(flags.__file__).read_text(encoding="utf-8")
    dates, name = [], None
    for kind, value in _ANNOTATION.findall(text):
        if kind == "toggle_name":
            name = value.strip()
        elif name:
            dates.append({"flag": name, "target_removal_date": value.strip()})
            name = None
    return tuple(dates)


def _listed(values, limit: int = 20) -> tuple[str, ...]:
    values = list(values)
    return tuple(values[:limit]) + ((f"... and {len(values) - limit} more",) if len(values) > limit else ())


def check(*, recent_days: float | None = None) -> SwitchOffCheck:
    """What still stands in the way of switching the shim off (nothing, when ``clear``)."""
    days = float(get_setting("SWITCH_OFF")["RECENT_DAYS"] if recent_days is None else recent_days)
    since = timezone.now() - timedelta(days=days)
    blockers = []
    recent = Submission.objects.filter(created_at__gte=since).order_by().values_list("course_id", flat=True)
    behind = sorted(
        f"{course} ({stage})" for course in set(recent) if (stage := decide_stage(course).stage) != Stage.EVENT
    )
    if behind:
        blockers.append(Blocker(
            f"courses with submissions in the last {days:g} days not in event", len(behind), _listed(behind),
            "move them forward stage by stage (`xqueue-bridge readiness`, `xqueue-bridge rollout set`)",
        ))
    live = Submission.objects.filter(status__in=Submission.LIVE).exclude(stage=Stage.EVENT)
    if live.exists():
        rows = live.order_by("id").values_list("id", "course_id", "stage")
        blockers.append(Blocker(
            "live submissions decided in an older stage (their results still take that path)", live.count(),
            _listed(f"submission {pk} of {course} ({stage})" for pk, course, stage in rows[:21]),
            "let the graders answer them (or wait for the learners' next submissions, which retire them)",
        ))
    for status, what, fix in (
        (Delivery.Status.PENDING, "deliveries pending or retrying", "let the worker deliver them"),
        (Delivery.Status.DEAD, "dead deliveries waiting for replay",
         "`xqueue-bridge replay` them once the LMS takes them (`xqueue-bridge deliveries --status dead`)"),
    ):
        waiting = Delivery.objects.filter(status=status)
        if waiting.exists():
            rows = waiting.order_by("id").values_list("id", "submission__course_id", "path", "attempts")[:21]
            blockers.append(Blocker(what, waiting.count(), _listed(
                f"delivery {pk} of {course} by {path} ({attempts} attempts)" for pk, course, path, attempts in rows
            ), fix))
    ignore = list(get_setting("SHADOW")["IGNORE_RULES"])
    if ignore:
        blockers.append(Blocker(
            "ignore rules in force (differences accepted instead of looked at)", len(ignore), tuple(ignore),
            "remove them from XQUEUE_BRIDGE['SHADOW']['IGNORE_RULES']",
        ))
    forced = ForcedMove.objects.filter(cleared_at__isnull=True)
    if forced.exists():
        blockers.append(Blocker(
            "forced moves not cleared", forced.count(), _listed(
                f"{m.pk}: {m.course_id} {m.from_stage} -> {m.to_stage} by {m.changed_by}: {m.reason}"
                for m in forced.order_by("id")[:21]
            ),
            "check each course's readiness, then `xqueue-bridge rollout clear-forced ID --reason ...`",
        ))
    return SwitchOffCheck(not blockers, tuple(blockers), flag_removal_dates(), days)
