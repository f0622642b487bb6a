"""
The stage of a course, decided when the learner submits and recorded on the submission.

Deciding at submit time fixes the path of a result before it exists (as edx-platform's own
``send_to_submission_course.enable`` does): a flag flipped while a submission waits for its grader
cannot send its result down a path the submission was not prepared for.
"""

from __future__ import annotations

from opaque_keys.edx.keys import CourseKey

from xqueue_bridge.conf import get_setting
from xqueue_bridge.data import StageDecision
from xqueue_bridge.models import Stage


def decide_stage(course_key: CourseKey) -> StageDecision:
    """Return the stage of ``course_key`` now, and why."""
    stage = get_setting("DEFAULT_STAGE")
    return StageDecision(stage=Stage(stage).value, reason="global default (setting DEFAULT_STAGE)")
