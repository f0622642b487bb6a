"""
The stage of a course, decided when the learner submits and recorded on the submission.

Deciding at submit time fixes the path of a result before it exists (as edx-platform's own
``send_to_submission_course.enable`` does): a flag flipped while a submission waits for its grader
cannot send its result down a path the submission was not prepared for.

The stage is the combination of two course flags (``xqueue_bridge.flags``): event delivery (is the event
path authoritative?) and shadow compare (is the other path compared?). Each is decided by a course
override, an org override, a stable percentage of courses or its global default, the same way in a
request, a worker, a receiver and a command, and without a query once the process is warm.
"""

from __future__ import annotations

from opaque_keys.edx.keys import CourseKey

from toggles.api import FlagDecision, course_ref
from xqueue_bridge.data import StageDecision
from xqueue_bridge.errors import UnknownStage
from xqueue_bridge.flags import EVENT_DELIVERY, SHADOW_COMPARE
from xqueue_bridge.models import Stage

# (event delivery on, shadow compare on) of each stage, and back.
FLAGS_OF_STAGE: dict[str, tuple[bool, bool]] = {
    Stage.CALLBACK.value: (False, False),
    Stage.SHADOW_CALLBACK.value: (False, True),
    Stage.SHADOW_EVENT.value: (True, True),
    Stage.EVENT.value: (True, False),
}
STAGE_OF_FLAGS: dict[tuple[bool, bool], str] = {flags: stage for stage, flags in FLAGS_OF_STAGE.items()}

MAX_REASON = 255  # Submission.stage_reason


def decide_stage(course_key: CourseKey | str) -> StageDecision:
    """The stage of ``course_key`` now, and why; a bad key raises ``toggles.exceptions.InvalidCourseKey``."""
    ref = course_ref(course_key)
    return stage_decision(EVENT_DELIVERY.evaluate(ref), SHADOW_COMPARE.evaluate(ref))


def stage_decision(event: FlagDecision, shadow: FlagDecision) -> StageDecision:
    """The stage two flag decisions make, with both reasons in one line of at most 255 characters."""
    stage = STAGE_OF_FLAGS[(event.enabled, shadow.enabled)]
    return StageDecision(stage=stage, reason=combined_reason(event, shadow))


def combined_reason(event: FlagDecision, shadow: FlagDecision) -> str:
    """
    One reason when both flags were set by the same change (a stage set for a course or an org, or both
    global defaults); else each flag's, e.g. ``event delivery on: in the 20% bucket; shadow compare off:
    global default``.
    """
    if event.reason == shadow.reason:
        return _clip(event.reason, MAX_REASON)
    head = f"event delivery {'on' if event.enabled else 'off'}: "
    middle = f"; shadow compare {'on' if shadow.enabled else 'off'}: "
    room = MAX_REASON - len(head) - len(middle)
    first, second = event.reason, shadow.reason
    if len(first) + len(second) > room:
        half = room // 2
        if len(first) <= half:
            second = _clip(second, room - len(first))
        elif len(second) <= half:
            first = _clip(first, room - len(second))
        else:
            first, second = _clip(first, half), _clip(second, room - half)
    return f"{head}{first}{middle}{second}"


def stage_name(stage: str) -> str:
    """Return ``stage`` if it is one of the four stages, else raise :class:`UnknownStage`."""
    if stage not in FLAGS_OF_STAGE:
        raise UnknownStage(f"Unknown stage {stage!r}; expected one of {', '.join(FLAGS_OF_STAGE)}.")
    return stage


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
