"""
The host's receiver of EXTERNAL_GRADER_SCORE_SUBMITTED, with the contract of edx-platform's
``handle_external_grader_score``: it reads ``score.score_msg`` (a reply without ``score`` raises),
re-serialises it as the ``xqueue_body``, passes ``score.queue_key`` as the queue key, finds the learner by
the anonymous id without access checks, returns silently on an invalid course or usage key, and logs and
re-raises any other failure.
"""

import json
import logging

from django.dispatch import receiver
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey
from openedx_events.learning.signals import EXTERNAL_GRADER_SCORE_SUBMITTED

from tests.lms_host.courseware import capa
from tests.lms_host.courseware.models import ProblemState

log = logging.getLogger(__name__)

# Test hook: how many of the next calls raise (the LMS's database down for a moment), then it recovers.
FAILURES = {"remaining": 0}


@receiver(EXTERNAL_GRADER_SCORE_SUBMITTED)
def handle_external_grader_score(signal, sender, score, **kwargs):
    try:
        grader_msg = json.loads(score.score_msg)
        grader_msg["score"]  # noqa: B018  (the LMS reads it: a reply without a score raises here)
        try:
            CourseKey.from_string(score.course_id)
            UsageKey.from_string(score.module_id)
        except InvalidKeyError:
            log.error("external grader score for an invalid course or usage key: %s", score.submission_id)
            return
        if FAILURES["remaining"] > 0:
            FAILURES["remaining"] -= 1
            raise ConnectionError("the LMS's database is unavailable")
        xqueue_header = json.dumps({"lms_key": str(score.submission_id), "queue_name": score.queue_name})
        data = {"xqueue_header": xqueue_header, "xqueue_body": json.dumps(grader_msg), "queuekey": score.queue_key}
        state = ProblemState.objects.get(usage_key=score.module_id, anonymous_user_id=score.user_id)
        capa.score_update(state.pk, data["xqueue_body"], data["queuekey"])
    except Exception:
        log.exception("error handling the external grader score of submission %s", score.submission_id)
        raise
