"""
The rollout API: move courses and orgs through the stages, set percentages, read stages and history.

The ``rollout`` management command, the admin and the demo call these functions. Every argument is
checked before anything is written (a bad one raises a named error: ``toggles.exceptions`` for keys, orgs,
flags, percentages and reasons, ``xqueue_bridge.errors.UnknownStage`` for stages), and a stage is written
as both flags' overrides in one transaction.

Every change is guarded (``stage.guard``): moving a course forward past a shadow stage it has not passed,
directly or as one of the courses of an org or a percentage, raises ``StageMoveRefused`` with the reasons
unless ``force`` is given (the forced moves are recorded with the reason and shown in the history); a
course or org the bridge has never seen needs ``allow_unseen``. Moving back is always allowed.
"""

from __future__ import annotations

import datetime
import itertools

import attr
from django.db import transaction
from django.utils import timezone
from opaque_keys.edx.keys import CourseKey

import toggles.api
from toggles.api import (
    CourseFlag,
    ProposedChange,
    course_ref,
    format_percent,
    looks_like_course_key,
    validate_changed_by,
    validate_org,
    validate_percentage,
    validate_reason,
)
from xqueue_bridge.data import StageDecision
from xqueue_bridge.errors import UnknownForcedMove
from xqueue_bridge.flags import EVENT_DELIVERY, SHADOW_COMPARE
from xqueue_bridge.models import ForcedMove
from xqueue_bridge.stage import guard
from xqueue_bridge.stage.decide import FLAGS_OF_STAGE, STAGE_OF_FLAGS, decide_stage, stage_decision, stage_name

FLAGS: tuple[CourseFlag, CourseFlag] = (EVENT_DELIVERY, SHADOW_COMPARE)
SHORT_NAMES = {flag.name.split(".", 1)[1]: flag.name for flag in FLAGS}  # "event_delivery", "shadow_compare"


@attr.frozen
class Target:
    """What a stage is set for: a course (its canonical key) or an org."""

    kind: str  # "course" or "org"
    value: str


@attr.frozen
class RolloutChange:
    """One change of the history, as an operator thinks of it: a stage, an unset, or one flag's value."""

    changed_at: datetime.datetime
    changed_by: str
    scope: str  # "course", "org" or "percentage"
    target: str  # course key, org, or "" for a percentage
    change: str  # "stage shadow_event", "unset", "event_delivery on", "event_delivery 20%"
    reason: str
    forced: str = ""  # the courses moved past an unmet readiness by --force, and why they were refused


def parse_target(course_or_org: str) -> Target:
    """A course key (it has ':', '+' or '/') or an org; a bad one raises InvalidCourseKey or InvalidOrg."""
    if isinstance(course_or_org, CourseKey):
        return Target("course", str(course_or_org))
    if isinstance(course_or_org, str) and looks_like_course_key(course_or_org):
        return Target("course", course_ref(course_or_org).key)
    return Target("org", validate_org(course_or_org))


def set_stage(course_or_org: str, stage: str, *, reason: str, changed_by: str, user=None, force: bool = False,
              allow_unseen: bool = False) -> list[ForcedMove]:
    """
    Put a course or every course of an org (without its own override) in ``stage``, if the guard allows
    it (see the module docstring); returns the forced moves recorded (none unless ``force`` was needed).
    """
    target = parse_target(course_or_org)
    event_on, shadow_on = FLAGS_OF_STAGE[stage_name(stage)]
    values = ("on" if event_on else "off", "on" if shadow_on else "off")
    return _write(target, values, reason, changed_by, user, force=force, allow_unseen=allow_unseen)


def unset(course_or_org: str, *, reason: str, changed_by: str, user=None, force: bool = False,
          allow_unseen: bool = False) -> list[ForcedMove]:
    """Remove the stage set for a course or an org: the next layer (org, percentage, global) decides."""
    return _write(
        parse_target(course_or_org), ("unset", "unset"), reason, changed_by, user, force=force,
        allow_unseen=allow_unseen,
    )


def set_percentage(flag_name: str, percent, *, reason: str, changed_by: str, user=None, force: bool = False) -> str:
    """
    Turn one flag (``event_delivery`` or ``shadow_compare``, or its full name) on for ``percent`` % of the
    courses no override decides. Raising the percentage only adds courses. 0 turns the layer off.

    Returns a warning ("" if none) when the change sends courses from ``callback`` straight to ``event``:
    event_delivery raised past shadow_compare's percentage (the two share one order of courses) while
    shadow_compare is not on for everyone. The admin, which writes the same rows, does not warn.
    """
    flag = flag_of(flag_name)
    percent = validate_percentage(percent)
    reason, changed_by = validate_reason(reason), validate_changed_by(changed_by)
    before = toggles.api.current_percentage(flag)
    change = ProposedChange(
        scope="percentage", target="", values={flag.name: percent}, reason=reason, changed_by=changed_by, force=force,
    )
    blocked = guard.check(change)
    now = timezone.now()
    with transaction.atomic():
        toggles.api.set_percentage(flag, percent, reason=reason, changed_by=changed_by, user=user, changed_at=now)
        guard.record_forced(change, blocked, at=now)
    shadow = toggles.api.current_percentage(SHADOW_COMPARE)
    if flag is not EVENT_DELIVERY or percent <= max(before, shadow) or toggles.api.on_for_everyone(SHADOW_COMPARE):
        return ""
    return (
        f"event_delivery ({format_percent(percent)}%) is now above shadow_compare ({format_percent(shadow)}%): "
        f"the courses between {format_percent(max(before, shadow))}% and {format_percent(percent)}% of the "
        "order that no override decides go from callback straight to event, with no shadow comparison. "
        "Raise shadow_compare first to compare them."
    )


def stage_of(course_key: CourseKey | str) -> StageDecision:
    """The stage of a course now, and why."""
    return decide_stage(course_key)


def stage_of_org(org: str) -> StageDecision:
    """The stage of the courses of ``org`` that have no override of their own (percentages aside)."""
    org = validate_org(org)
    return stage_decision(EVENT_DELIVERY.evaluate_org(org), SHADOW_COMPARE.evaluate_org(org))


def known_courses() -> list[str]:
    """Courses with an override of either flag or with submissions, sorted; unparseable ids are left out."""
    return guard.known_courses()


def history(
    course: str | None = None, org: str | None = None, *, limit: int | None = None
) -> list[RolloutChange]:
    """
    Changes, newest first: of a course (and of its org), of an org, or of everything (percentages too).
    Both flags' rows written by one ``set_stage`` or ``unset`` are one change.
    """
    if course is not None:
        course = course_ref(course).key
    if org is not None:
        org = validate_org(org)
    rows = [
        row
        for flag in FLAGS
        # A change holds at most one row per flag, so the newest ``limit`` rows of each flag are enough.
        for row in toggles.api.history(flag=flag, course=course, org=org if course is None else None, limit=limit)
    ]
    rows.sort(key=lambda row: (row.changed_at, row.id), reverse=True)
    changes = []
    for key, group in itertools.groupby(
        rows, key=lambda row: (row.changed_at, row.changed_by, row.scope, row.target, row.reason)
    ):
        changed_at, changed_by, scope, target, reason = key
        changes.append(RolloutChange(
            changed_at, changed_by, scope, target, _describe(list(group)), reason, _forced(changed_at, changed_by),
        ))
        if limit is not None and len(changes) >= limit:
            break
    return changes


def flag_of(name: str) -> CourseFlag:
    """``event_delivery``, ``shadow_compare`` or a full flag name; another raises UnknownFlag."""
    return toggles.api.get_flag(SHORT_NAMES.get(name, name))


def _write(target: Target, values: tuple[str, str], reason: str, changed_by: str, user, *, force: bool,
           allow_unseen: bool) -> list[ForcedMove]:
    reason = validate_reason(reason)
    changed_by = validate_changed_by(changed_by)
    change = ProposedChange(
        scope=target.kind, target=target.value,
        values={flag.name: value for flag, value in zip(FLAGS, values, strict=True)}, reason=reason,
        changed_by=changed_by, force=force, allow_unseen=allow_unseen,
    )
    blocked = guard.check(change)
    write = toggles.api.set_course_override if target.kind == "course" else toggles.api.set_org_override
    now = timezone.now()
    with transaction.atomic():
        for flag, value in zip(FLAGS, values, strict=True):
            write(flag, target.value, value, reason=reason, changed_by=changed_by, user=user, changed_at=now)
        return guard.record_forced(change, blocked, at=now)


def _forced(changed_at: datetime.datetime, changed_by: str) -> str:
    """The forced moves of the change written at ``changed_at`` by ``changed_by``, in a few words."""
    moves = ForcedMove.objects.filter(created_at=changed_at, changed_by=changed_by)
    return "; ".join(f"forced {m.course_id} {m.from_stage} -> {m.to_stage} past: {m.unmet}" for m in moves)


def forced_moves(*, open_only: bool = True) -> list[ForcedMove]:
    """Forced moves, oldest first (only those no operator has cleared, unless ``open_only`` is False)."""
    moves = ForcedMove.objects.all()
    return list(moves.filter(cleared_at__isnull=True) if open_only else moves)


def clear_forced(move_id: int, *, reason: str, changed_by: str) -> ForcedMove:
    """Mark a forced move as looked at (its course passed readiness since, or the risk is accepted)."""
    reason, changed_by = validate_reason(reason), validate_changed_by(changed_by)
    move = ForcedMove.objects.filter(pk=move_id).first()
    if move is None:
        raise UnknownForcedMove(f"No forced move {move_id}; `xqueue-bridge rollout forced` lists them")
    if move.cleared_at is None:
        move.cleared_at, move.cleared_by, move.cleared_reason = timezone.now(), changed_by, reason
        move.save(update_fields=["cleared_at", "cleared_by", "cleared_reason"])
    return move


def _describe(rows) -> str:
    values = {row.flag: row.value for row in rows}
    both = (values.get(EVENT_DELIVERY.name), values.get(SHADOW_COMPARE.name))
    if both == ("unset", "unset"):
        return "unset"
    if all(value in ("on", "off") for value in both):
        return f"stage {STAGE_OF_FLAGS[(both[0] == 'on', both[1] == 'on')]}"
    return ", ".join(f"{flag.split('.', 1)[1]} {value}" for flag, value in sorted(values.items()))


@attr.frozen
class FlagState:
    """A flag at a glance: its percentage, its global default, and how many overrides are in effect."""

    flag: str
    percentage: str  # "20%", or "" without a percentage layer
    global_default: str  # "on" or "off"
    courses_on: int
    courses_off: int
    orgs_on: int
    orgs_off: int


def flag_states() -> list[FlagState]:
    """The state of both flags in this process (as every decision here sees it)."""
    states = []
    for flag in FLAGS:
        summary = toggles.api.summary(flag)
        states.append(
            FlagState(
                flag=summary.flag,
                percentage=f"{format_percent(summary.percent)}%" if summary.percent is not None else "",
                global_default="on" if summary.global_default else "off",
                courses_on=summary.courses_on,
                courses_off=summary.courses_off,
                orgs_on=summary.orgs_on,
                orgs_off=summary.orgs_off,
            )
        )
    return states
