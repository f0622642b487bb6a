"""
The stand-in receiving ends accept only what the bridge itself sends: every callback the bridge posts
carries a signature made with the installation's secret (``RECEIVING_ENDS_SECRET``, or one derived from
``SECRET_KEY``), checked in constant time; anything else is refused with 403 and changes nothing.
"""

from __future__ import annotations

import json

import pytest
import requests

from tests.conftest import GRADER_PASSWORD, GRADER_USER, LMS_PASSWORD, LMS_USER, submission_for
from tests.support.helpers import REPLY
from tests.support.sink import signature_headers
from xqueue_bridge.apps import check_receiving_ends_secret
from xqueue_bridge.runtime.clients import GraderClient, LmsClient
from xqueue_bridge.sink import learners

INVALID = "not json"


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-XQueue-Bridge-Signature": "sha256=" + "0" * 64}, {"X-XQueue-Bridge-Signature": "forged"}],
    ids=["unsigned", "wrong-signature", "malformed-signature"],
)
def test_a_forged_callback_to_the_stand_in_is_refused_and_the_genuine_result_still_scores(
    bridge_url, learner, headers
):
    """Finding 2: anyone could un-queue a learner by POSTing an invalid reply to the stand-in's URL."""
    url, usage_key = learner(user_id=9, anonymous_id="anon-9", queuekey="genuine-key")
    header, body = submission_for(url, key="genuine-key", anonymous_id="anon-9")
    forged = requests.post(url, data={"xqueue_header": header, "xqueue_body": INVALID}, headers=headers)

    assert forged.status_code == 403
    assert forged.text == "the callback is not signed by this bridge (RECEIVING_ENDS_SECRET)"
    state = learners.problem_state(usage_key, user_id=9)
    assert (state.queuekey, state.correctness) == ("genuine-key", "incomplete")
    assert learners.learner_updates(usage_key, user_id=9) == []

    lms = LmsClient(bridge_url, LMS_USER, LMS_PASSWORD)
    assert lms.submit(header, body)[0] == 0
    grader = GraderClient(bridge_url, GRADER_USER, GRADER_PASSWORD)
    served = grader.get_submission("test-pull")
    assert grader.put_result(served["xqueue_header"], json.dumps(REPLY)) == (True, "")
    state = learners.problem_state(usage_key, user_id=9)
    assert (state.queuekey, state.correctness, state.npoints) == (None, "correct", 1.0)


def test_a_callback_signed_for_other_content_is_refused(bridge_url, learner):
    url, usage_key = learner(user_id=10, anonymous_id="anon-10", queuekey="key-10")
    header, _ = submission_for(url, key="key-10", anonymous_id="anon-10")
    headers = signature_headers(header, json.dumps(REPLY))  # a genuine signature of another body

    response = requests.post(url, data={"xqueue_header": header, "xqueue_body": INVALID}, headers=headers)

    assert response.status_code == 403
    assert learners.problem_state(usage_key, user_id=10).queuekey == "key-10"


def test_a_signature_made_with_another_installations_secret_is_refused(bridge_url, learner):
    url, usage_key = learner(user_id=11, anonymous_id="anon-11", queuekey="key-11")
    header, _ = submission_for(url, key="key-11", anonymous_id="anon-11")
    headers = signature_headers(header, INVALID, secret="another-installation-secret-0123456789")

    response = requests.post(url, data={"xqueue_header": header, "xqueue_body": INVALID}, headers=headers)

    assert response.status_code == 403
    assert learners.problem_state(usage_key, user_id=11).queuekey == "key-11"


def test_a_configured_secret_signs_and_checks_the_bridges_own_callbacks(bridge_url, learner, settings):
    secret = "s3cret-of-this-installation-0123456789"
    settings.XQUEUE_BRIDGE = {**settings.XQUEUE_BRIDGE, "RECEIVING_ENDS_SECRET": secret}
    url, usage_key = learner(user_id=12, anonymous_id="anon-12", queuekey="key-12")
    header, body = submission_for(url, key="key-12", anonymous_id="anon-12")
    lms = LmsClient(bridge_url, LMS_USER, LMS_PASSWORD)
    assert lms.submit(header, body)[0] == 0
    grader = GraderClient(bridge_url, GRADER_USER, GRADER_PASSWORD)
    served = grader.get_submission("test-pull")

    assert grader.put_result(served["xqueue_header"], json.dumps(REPLY)) == (True, "")
    assert learners.problem_state(usage_key, user_id=12).npoints == 1.0
    derived = signature_headers(header, INVALID, secret=None)  # the SECRET_KEY-derived one no longer counts
    response = requests.post(url, data={"xqueue_header": header, "xqueue_body": INVALID}, headers=derived)
    assert response.status_code == 403


def test_a_secret_too_short_to_sign_with_is_a_system_check_error(settings):
    assert check_receiving_ends_secret() == []
    settings.XQUEUE_BRIDGE = {**settings.XQUEUE_BRIDGE, "RECEIVING_ENDS_SECRET": "short"}
    [error] = check_receiving_ends_secret()
    assert error.id == "xqueue_bridge.E020" and "at least 32 characters" in error.msg
