"""
The standalone receiver of EXTERNAL_GRADER_SCORE_SUBMITTED: the event path's receiving end.

It does what the LMS's ``handle_external_grader_score`` does: ``score_msg`` must be
JSON (else it raises before anything is looked up); the learner is found by the anonymous id the event
carries (``user_id``) and the usage key (``module_id``), without access checks; the raw reply goes to
the renderer as a ``score_update`` with ``queue_key`` as the queue key. It raises when the learner is
unknown or the renderer fails: a sender using ``send_robust=False`` (the bridge's event delivery, as
edx-submissions) sees the failure and retries.

The receiver is connected whenever the sink app is installed and returns at once while RECEIVING_ENDS is
off: the setting is read per event, so turning it off (or overriding it in a test) needs no reconnect.
"""

from __future__ import annotations

import logging

from openedx_events.learning.data import ExternalGraderScoreData

from xqueue_bridge.conf import get_setting
from xqueue_bridge.data import RenderOutcome
from xqueue_bridge.errors import RenderFailed
from xqueue_bridge.render.updates import update_from_event
from xqueue_bridge.sink.renderer import get_applying_renderer

log = logging.getLogger(__name__)


def handle_external_grader_score(sender, score: ExternalGraderScoreData, **kwargs) -> RenderOutcome | None:
    """Apply the event's grader reply to the learner's problem; raise where the LMS's receiver raises."""
    if not get_setting("RECEIVING_ENDS"):
        return None
    update = update_from_event(score)  # a reply that is not JSON raises here, as it does in the LMS
    outcome = get_applying_renderer().apply(update)  # UnknownProblem propagates
    if outcome.error:
        log.warning("score event for submission %s not applied: %s", score.submission_id, outcome.error)
        raise RenderFailed(f"submission {score.submission_id}: {outcome.error}")
    return outcome
