"""
The one translation of each receiving end's input into a ``ScoreUpdate``, as the LMS reads it.

``update_from_callback`` is what the LMS's ``xqueue_callback`` view takes from a callback (the header
must be a JSON object holding ``lms_key``); ``update_from_event`` is what its
``handle_external_grader_score`` receiver takes from the event (``score_msg`` must be JSON). The
standalone receiving ends apply the update; shadow's dry runs evaluate the same update.
"""

from __future__ import annotations

import json

from openedx_events.learning.data import ExternalGraderScoreData

from xqueue_bridge.data import DISPATCHES, SCORE_UPDATE, ScoreUpdate
from xqueue_bridge.errors import UpdateRefused

# Codes of the refusals, as shadow observations record them.
HEADER_NOT_JSON = "lms_view: header_not_json"  # the LMS's view answers 500
NO_LMS_KEY = "lms_view: no_lms_key"  # the LMS's view answers 404
UNKNOWN_DISPATCH = "lms_view: unknown_dispatch"  # the LMS's view answers 404


def update_from_callback(
    *, course_id: str, user_id: str, usage_key: str, dispatch: str, xqueue_header: str, xqueue_body: str
) -> ScoreUpdate:
    """The update a callback makes, or ``UpdateRefused`` with the LMS view's answer (404 or 500)."""
    try:
        header = json.loads(xqueue_header)
    except (TypeError, ValueError, RecursionError):
        raise UpdateRefused(HEADER_NOT_JSON, "xqueue_header is not JSON", lms_status=500)
    if not isinstance(header, dict) or "lms_key" not in header:
        raise UpdateRefused(NO_LMS_KEY, "xqueue_header is not a JSON object with lms_key", lms_status=404)
    if dispatch not in DISPATCHES:
        raise UpdateRefused(UNKNOWN_DISPATCH, f"unknown dispatch {dispatch!r}", lms_status=404)
    return ScoreUpdate(
        course_id=course_id,
        usage_key=usage_key,
        queuekey=header["lms_key"],
        xqueue_body=xqueue_body,
        via="callback",
        user_id=user_id,
        dispatch=dispatch,
    )


def update_from_event(score: ExternalGraderScoreData) -> ScoreUpdate:
    """
    The update the event makes. A ``score_msg`` that is not JSON raises ``json.JSONDecodeError`` (or
    TypeError) before anything is looked up, as the LMS's receiver does.
    """
    json.loads(score.score_msg)
    return ScoreUpdate(
        course_id=str(score.course_id),
        usage_key=str(score.module_id),
        queuekey=score.queue_key,
        xqueue_body=score.score_msg,
        via="event",
        anonymous_student_id=None if score.user_id is None else str(score.user_id),
        dispatch=SCORE_UPDATE,
    )
