"""
One stage move of one course, as the dashboard and the API make it: to the next stage (when readiness
allows, or forced with a reason) or back (always allowed), the reason recorded in the rollout history.
"""

from __future__ import annotations

import attr

from toggles.keys import course_ref
from xqueue_bridge.errors import CourseMoveRefused, StageMoveRefused
from xqueue_bridge.models import Stage
from xqueue_bridge.shadow.readiness import check as readiness_of
from xqueue_bridge.stage import rollout

ORDER = [Stage.CALLBACK, Stage.SHADOW_CALLBACK, Stage.SHADOW_EVENT, Stage.EVENT]
DIRECTIONS = ("next", "back")


@attr.frozen
class Move:
    course: str
    from_stage: str
    to_stage: str
    forced: bool  # moved past an unmet readiness (recorded by the rollout as a forced move)
    reason: str
    readiness: tuple[str, ...]


def neighbour(stage: str, direction: str) -> str | None:
    """The stage after (``next``) or before (``back``) ``stage``; None past either end."""
    if direction not in DIRECTIONS:
        raise CourseMoveRefused(f"direction {direction!r}: expected next or back")
    index = ORDER.index(stage) + (1 if direction == "next" else -1)
    return ORDER[index].value if 0 <= index < len(ORDER) else None


def set_stage_guarded(course: str, stage: str, *, reason: str, changed_by: str, force: bool, user=None) -> bool:
    """Write the stage through the rollout's guard (readiness; ``force`` lets a refused move through and the
    rollout records it with the reason). Returns whether the move was forced."""
    return bool(rollout.set_stage(course, stage, reason=reason, changed_by=changed_by, user=user, force=force))


def move_course(course: str, direction: str, *, reason: str, changed_by: str, force: bool = False,
                user=None) -> Move:
    """Move ``course`` one stage; a move forward that readiness does not allow is refused unless ``force``."""
    course = course_ref(course).key
    reason = (reason or "").strip()
    if not reason:
        raise CourseMoveRefused("a reason is required: it is kept in the rollout history")
    current = rollout.stage_of(course).stage
    target = neighbour(current, direction)
    if target is None:
        side = "after" if direction == "next" else "before"
        raise CourseMoveRefused(f"{course} is in {current}: there is no stage {side} it")
    ready = readiness_of(course, current) if direction == "next" else None
    try:
        forced = set_stage_guarded(course, target, reason=reason, changed_by=changed_by,
                                   force=force and direction == "next", user=user)
    except StageMoveRefused as refused:
        # The course's own readiness reads better than the guard's one line per course; the guard's
        # message stands for what readiness does not say (a key the bridge has never seen).
        reasons = ready.reasons if ready is not None and not ready.ready else refused.reasons
        raise CourseMoveRefused(f"{course} may not move from {current} to {target}", tuple(reasons)) from None
    return Move(course, current, target, forced, reason, tuple(ready.reasons) if ready is not None else ())
