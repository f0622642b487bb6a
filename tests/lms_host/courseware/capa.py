"""
The host's problem block: capa's ``score_update`` rules on a grader reply (a JSON object with ``correct``,
``score`` and ``msg``, applied only while the stored queue key equals the result's, which it consumes).
Written for the host, as an LMS has its own; it does not use the bridge's renderer.
"""

import json

from django.db import transaction

from tests.lms_host.courseware.models import ProblemState

INVALID = "Invalid grader reply. Please contact the course staff."


def score_update(state_id: int, xqueue_body: str, queuekey: str) -> bool:
    """Apply a grader reply to a learner's problem; returns whether it changed anything."""
    with transaction.atomic():
        state = ProblemState.objects.select_for_update().get(pk=state_id)
        try:
            reply = json.loads(xqueue_body)
            valid = isinstance(reply, dict) and {"correct", "score", "msg"} <= reply.keys()
        except ValueError:
            valid = False
        if not valid:
            state.queuekey, state.correctness, state.npoints, state.msg = None, "", None, INVALID
            state.save()
            return True
        if state.queuekey is None or state.queuekey != queuekey:
            return False  # a duplicate or stale result changes nothing
        state.correctness = "correct" if reply["correct"] else "incorrect"
        state.npoints = max(float(reply["score"]), 0.0)
        state.msg = reply["msg"]
        state.queuekey = None
        state.updates_applied += 1
        state.save()
        return True
