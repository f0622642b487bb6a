"""
Guarded stage moves: a course goes forward only past the shadow stages it has passed.

Every rollout change (a course or org stage, a percentage, an admin row) is turned into the moves it
makes, course by course (``moves_of``): from the stage a known course is in now to the stage it would be
in once the change is written. A move back, or to the same stage, is always allowed. A move forward is
refused when it skips a shadow stage (the course was never compared there) or leaves a shadow stage whose
readiness is not met. A course key, or an org, the bridge has never seen (no submission, no override) is
refused unless the writer says it is meant (``allow_unseen``): a mistyped key would otherwise be accepted
silently. ``force`` (with its reason, which every change has) lets a refused move through; the move and
the reasons it went past are recorded as a ``ForcedMove`` until an operator clears it.

Readiness is shadow's answer, and the core never imports shadow: the shadow app registers its readiness
here (``register_readiness``) when it starts. Without it a forward move out of a shadow stage cannot be
shown safe and is refused (docs/decisions/0011).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import attr
from django.db.models import Q

import toggles.api
from toggles.api import ChangeRefused, ProposedChange, TogglesError, course_flag_names, course_ref
from xqueue_bridge.errors import StageMoveRefused
from xqueue_bridge.flags import EVENT_DELIVERY, SHADOW_COMPARE
from xqueue_bridge.models import ForcedMove, Stage, Submission
from xqueue_bridge.stage.decide import STAGE_OF_FLAGS, decide_stage

ORDER = (Stage.CALLBACK.value, Stage.SHADOW_CALLBACK.value, Stage.SHADOW_EVENT.value, Stage.EVENT.value)
SHADOW_STAGES = (Stage.SHADOW_CALLBACK.value, Stage.SHADOW_EVENT.value)
BRIDGE_FLAGS = (EVENT_DELIVERY.name, SHADOW_COMPARE.name)


class Readiness(Protocol):
    ready: bool
    reasons: tuple[str, ...]


_readiness: Callable[[str, str], Readiness] | None = None


def register_readiness(provider: Callable[[str, str], Readiness]) -> None:
    """``provider(course_id, stage)`` answers whether the course has passed ``stage`` (the shadow app's)."""
    global _readiness
    _readiness = provider


@attr.frozen
class Move:
    course_id: str
    from_stage: str
    to_stage: str

    @property
    def forward(self) -> bool:
        return ORDER.index(self.to_stage) > ORDER.index(self.from_stage)


@attr.frozen
class Blocked:
    move: Move
    reasons: tuple[str, ...]

    def describe(self) -> str:
        return f"{self.move.course_id}: {self.move.from_stage} -> {self.move.to_stage}: " + "; ".join(self.reasons)


def why_not(move: Move) -> tuple[str, ...]:
    """Why ``move`` may not be made (nothing when it may)."""
    if not move.forward:
        return ()
    reasons = []
    for stage in ORDER[ORDER.index(move.from_stage):ORDER.index(move.to_stage)]:
        if stage not in SHADOW_STAGES:
            continue
        if stage != move.from_stage:
            reasons.append(f"skips {stage}, where it was never compared")
        elif _readiness is None:
            reasons.append(f"readiness in {stage} is unknown: the shadow app (xqueue_bridge.shadow) is not installed")
        else:
            answer = _readiness(move.course_id, stage)
            if not answer.ready:
                reasons.append(f"readiness in {stage} not met: " + "; ".join(answer.reasons))
    return tuple(reasons)


def known_courses() -> list[str]:
    """Courses with an override of either flag or with submissions, sorted; unparseable ids are left out."""
    ids = toggles.api.overridden_courses(BRIDGE_FLAGS)
    ids.update(Submission.objects.order_by().values_list("course_id", flat=True).distinct())
    courses = set()
    for course_id in ids:
        try:
            courses.add(course_ref(course_id).key)
        except TogglesError:
            continue
    return sorted(courses)


def stage_after(course_id: str, change: ProposedChange) -> str:
    event_on = toggles.api.enabled_after(EVENT_DELIVERY.name, course_id, change)
    shadow_on = toggles.api.enabled_after(SHADOW_COMPARE.name, course_id, change)
    return STAGE_OF_FLAGS[(event_on, shadow_on)]


def moves_of(change: ProposedChange) -> list[Move]:
    """The courses ``change`` would move, each from its stage now to the stage after."""
    if change.scope == "course":
        courses = [change.target]
    elif change.scope == "org":
        courses = [course for course in known_courses() if course_ref(course).org == change.target]
    else:
        courses = known_courses()
    moves = []
    for course in courses:
        move = Move(course, decide_stage(course).stage, stage_after(course, change))
        if move.from_stage != move.to_stage:
            moves.append(move)
    return moves


def unseen(change: ProposedChange) -> str | None:
    """Why the change's course or org is one the bridge has never seen, or None."""
    if change.scope == "course":
        key = change.target
        if Submission.objects.filter(course_id=key).exists() or key in toggles.api.overridden_courses(BRIDGE_FLAGS):
            return None
        return f"no submission of course {key} has reached the bridge and it has no stage set yet"
    if change.scope == "org":
        org = change.target
        prefix = Q(course_id__startswith=f"course-v1:{org}+") | Q(course_id__startswith=f"{org}/")
        overridden = toggles.api.overridden_courses(BRIDGE_FLAGS)
        if (
            Submission.objects.filter(prefix).exists()
            or toggles.api.org_overridden(org, BRIDGE_FLAGS)
            or any(course_ref(course).org == org for course in overridden if _parses(course))
        ):
            return None
        return f"no course of org {org} has reached the bridge and the org has no stage set yet"
    return None


def check(change: ProposedChange) -> list[Blocked]:
    """
    Refuse ``change`` (StageMoveRefused) when it names an unseen course or org without ``allow_unseen``, or
    when a move it makes is refused and ``force`` is not given. Returns the refused moves ``force`` lets
    through (to be recorded with ``record_forced``).
    """
    if not set(change.values) & set(BRIDGE_FLAGS):
        return []
    never_seen = unseen(change)
    if never_seen and not change.allow_unseen:
        raise StageMoveRefused(
            f"Refused: {never_seen}. Check the key; if it is meant, give --allow-unseen "
            "(readiness shows it as \"no data\" until its learners submit).", (never_seen,),
        )
    blocked = [Blocked(move, reasons) for move in moves_of(change) if (reasons := why_not(move))]
    if blocked and not change.force:
        listed = "\n".join(f"  {item.describe()}" for item in blocked)
        raise StageMoveRefused(
            f"Refused: {len(blocked)} course(s) would move forward past a shadow stage they have not passed:\n"
            f"{listed}\nMove them back or wait for readiness (`xqueue-bridge readiness`); to move anyway give "
            "--force with a --reason, which is recorded (`xqueue-bridge rollout forced`).",
            tuple(item.describe() for item in blocked),
        )
    return blocked


def record_forced(change: ProposedChange, blocked: list[Blocked], *, at=None) -> list[ForcedMove]:
    """Record each refused move ``force`` let through (inside the transaction that writes the change)."""
    target = change.target or "percentage " + ", ".join(f"{k} {v}" for k, v in change.values.items())
    return [
        ForcedMove.objects.create(
            target=target[:255], course_id=item.move.course_id, from_stage=item.move.from_stage,
            to_stage=item.move.to_stage, unmet="; ".join(item.reasons), reason=change.reason,
            changed_by=change.changed_by, **({"created_at": at} if at is not None else {}),
        )
        for item in blocked
    ]


def guard_admin_change(change: ProposedChange) -> Callable[[], object] | None:
    """
    The toggles admin's guard: refuse as ``check`` does; a forced change returns what records its forced
    moves, which the admin calls in the transaction that saves the row.
    """
    if not set(change.values) & set(course_flag_names()) & set(BRIDGE_FLAGS):
        return None
    try:
        blocked = check(change)
    except StageMoveRefused as refused:
        raise ChangeRefused(refused.message, refused.reasons) from None
    return (lambda: record_forced(change, blocked)) if blocked else None


def _parses(course_id: str) -> bool:
    try:
        course_ref(course_id)
    except TogglesError:
        return False
    return True
