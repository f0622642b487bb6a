"""
One stage move of one course, as the dashboard and the API make it: to the next stage (when readiness
allows, or forced with a reason) or back (always allowed), the reason recorded in the rollout history.
"""

from __future__ import annotations

import attr

from toggles.keys import course_ref
from xqueue_bridge.errors import CourseMoveRefused
from xqueue_bridge.models import Stage
from xqueue_bridge.shadow.report import Thresholds, course_readiness
from xqueue_bridge.stage import rollout

ORDER = [Stage.CALLBACK, Stage.SHADOW_CALLBACK, Stage.SHADOW_EVENT, Stage.EVENT]
DIRECTIONS = ("next", "back")





@attr.frozen
class Move:
    course: str
    from_stage: str
    to_stage: str
    forced: bool
    reason: str
    readiness: tuple[str, ...]


def neighbour(stage: str, direction: str) -> str | None:
    """The stage after (``next``) or before (``back``) ``stage``; None past either end."""
    if direction not in DIRECTIONS:
        raise CourseMoveRefused(f"direction {direction!r}: expected next or back")
    index = ORDER.index(stage) + (1 if direction == "next" else -1)
    return ORDER[index].value if 0 <= index < len(ORDER) else None


def set_stage_guarded(course: str, stage: str, *, reason: str, changed_by: str, force: bool, user=None) -> None:
    """Write the stage. The one place the rollout's write is called from the cockpit."""
    rollout.set_stage(course, stage, reason=reason, changed_by=changed_by, user=user)


def move_course(course: str, direction: str, *, reason: str, changed_by: str, force: bool = False,
                user=None) -> Move:
    """Move ``course`` one stage; refuse a move forward that readiness does not allow unless ``force``."""
    course = course_ref(course).key
    reason = (reason or "").strip()
    if not reason:
        raise CourseMoveRefused("a reason is required: it is kept in the rollout history")
    current = rollout.stage_of(course).stage
    target = neighbour(current, direction)
    if target is None:
        side = "after" if direction == "next" else "before"
        raise CourseMoveRefused(f"{course} is in {current}: there is no stage {side} it")
    readiness = ()
    if direction == "next":
        ready = course_readiness(course, current, Thresholds.from_settings())
        readiness = ready.reasons
        if not ready.ready and not force:
            raise CourseMoveRefused(f"{course} is not ready to leave {current}", ready.reasons)
        if not ready.ready:
            reason = f"forced past readiness: {reason}"
    set_stage_guarded(course, target, reason=reason, changed_by=changed_by, force=force, user=user)
    return Move(course, current, target, force and direction == "next", reason, tuple(readiness))
