"""
One learner's problem in the standalone sink, for the renderer and sink tests: queue it as the LMS does,
build the score updates both receiving ends make, and read back its state and updates.
"""

from __future__ import annotations

import json

from tests.support.lms import callback_url
from xqueue_bridge.data import ScoreUpdate
from xqueue_bridge.sink import learners

COURSE = "course-v1:Org+Course+Run"
USAGE = "block-v1:Org+Course+Run+type@problem+block@p1"
USER = "7"
ANON = "anon-7"
KEY = "key-1"


def queue(*, queuekey: str = KEY, max_score: int = 1, **overrides):
    """The learner submitted: the problem waits for a result under ``queuekey``."""
    fields = {"course_id": COURSE, "usage_key": USAGE, "user_id": USER, "anonymous_student_id": ANON}
    fields.update(overrides)
    return learners.begin_attempt(queuekey=queuekey, max_score=max_score, **fields)


def reply(correct=True, score=1, msg="<p>All tests passed</p>") -> str:
    return json.dumps({"correct": correct, "score": score, "msg": msg})


def callback_update(body: str, *, queuekey=KEY, dispatch: str = "score_update", **overrides) -> ScoreUpdate:
    fields = {"course_id": COURSE, "usage_key": USAGE, "user_id": USER}
    fields.update(overrides)
    return ScoreUpdate(queuekey=queuekey, xqueue_body=body, via="callback", dispatch=dispatch, **fields)


def event_update(body: str, *, queuekey=KEY, **overrides) -> ScoreUpdate:
    fields = {"course_id": COURSE, "usage_key": USAGE, "anonymous_student_id": ANON}
    fields.update(overrides)
    return ScoreUpdate(queuekey=queuekey, xqueue_body=body, via="event", **fields)


def callback_path(
    *, course_id: str = COURSE, user_id: str = USER, usage_key: str = USAGE, dispatch: str = "score_update"
) -> str:
    """The path of the LMS's callback URL for the learner's problem."""
    return callback_url("", course_id, user_id, usage_key=usage_key, dispatch=dispatch)


def state():
    return learners.problem_state(USAGE, user_id=USER)


def updates():
    return learners.learner_updates(USAGE, user_id=USER)
