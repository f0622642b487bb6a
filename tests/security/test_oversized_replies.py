"""
Grader replies and the size limit, on both paths: a reply as large as legacy XQueue forwards is taken; a
reply over the limit is a failed grading attempt of its submission (413 with the reason, graded again),
and after MAX_GRADING_ATTEMPTS the submission fails with the learner's failure notice, never served again.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import GRADER_PASSWORD, GRADER_USER
from tests.support.helpers import REPLY, bridge_settings
from xqueue_bridge.models import Delivery, Submission
from xqueue_bridge.runtime.clients import GraderClient

STAGES = pytest.mark.parametrize(("stage", "path"), [("callback", "callback"), ("event", "event")])
# What legacy XQueue forwards: its put_result reads request.POST under Django's default
# DATA_UPLOAD_MAX_MEMORY_SIZE of 2.5 MiB (2,621,440 bytes), so a form-encoded reply of nearly that size.
LEGACY_LARGEST = 2_621_440 - 4096


def reply_of(size: int) -> str:
    """A watcher-style reply of exactly ``size`` bytes (ASCII)."""
    empty = json.dumps({**REPLY, "msg": ""})
    return json.dumps({**REPLY, "msg": "a" * (size - len(empty))})


@pytest.fixture
def grader(bridge_url):
    client = GraderClient(bridge_url, GRADER_USER, GRADER_PASSWORD)
    assert client.login()
    return client


def put(grader, bridge_url, header: str, body: str):
    response = grader.session.post(
        f"{bridge_url}/xqueue/put_result/", data={"xqueue_header": header, "xqueue_body": body}
    )
    return response.status_code, response.json()


@STAGES
def test_a_reply_as_large_as_legacy_xqueue_forwards_is_taken(stage, path, bridge_url, queue, grader, set_stage,
                                                             receiver):
    set_stage(stage)
    submission = queue.submit()
    served = grader.get_submission("test-pull")

    assert put(grader, bridge_url, served["xqueue_header"], reply_of(LEGACY_LARGEST)) == (
        200, {"return_code": 0, "content": ""}
    )
    submission.refresh_from_db()
    assert submission.status == "graded" and len(submission.grader_reply) == LEGACY_LARGEST


@STAGES
def test_a_reply_just_under_the_limit_is_taken_and_one_just_over_is_a_failed_attempt(
    stage, path, bridge_url, queue, grader, set_stage, receiver
):
    set_stage(stage)
    with bridge_settings(MAX_REPLY_BYTES=2000, MAX_GRADING_ATTEMPTS=2):
        taken = queue.submit()
        served = grader.get_submission("test-pull")
        assert put(grader, bridge_url, served["xqueue_header"], reply_of(2000))[0] == 200
        taken.refresh_from_db()
        assert taken.status == "graded"

        submission = queue.submit()
        served = grader.get_submission("test-pull")
        status, answer = put(grader, bridge_url, served["xqueue_header"], reply_of(2001))
        assert status == 413
        assert answer["content"] == (
            "the reply has 2001 bytes, over the limit of 2000 (MAX_REPLY_BYTES) (grading attempt 1 of 2: "
            "the submission is back in the queue to be graded again)"
        )
        submission.refresh_from_db()
        assert (submission.status, submission.grading_failures) == ("queued", 1)

        again = grader.get_submission("test-pull")
        assert json.loads(again["xqueue_header"])["submission_id"] == submission.pk
        status, answer = put(grader, bridge_url, again["xqueue_header"], reply_of(5000))
        assert status == 413 and answer["content"].endswith(
            "(grading attempt 2 of 2: the submission is given up and the learner is told it could not be graded)"
        )
        submission.refresh_from_db()
        assert (submission.status, submission.grading_failures) == ("failed", 2)
        assert grader.get_submission("test-pull") is None  # never served again
        [notice] = Delivery.objects.filter(submission=submission)
        assert (notice.kind, notice.path) == ("failure_notice", path)


def test_a_request_too_large_to_read_still_counts_an_attempt_of_the_submission_it_names(
    bridge_url, queue, grader
):
    with bridge_settings(MAX_REPLY_BYTES=1000, MAX_REQUEST_BYTES=4000, MAX_GRADING_ATTEMPTS=3):
        submission = queue.submit()
        served = grader.get_submission("test-pull")
        status, answer = put(grader, bridge_url, served["xqueue_header"], reply_of(50_000))

    assert status == 413
    assert answer["content"].startswith("the reply has ")
    assert "over the limit of 1000 (MAX_REPLY_BYTES) (grading attempt 1 of 3" in answer["content"]
    submission.refresh_from_db()
    assert (submission.status, submission.grading_failures) == (Submission.Status.QUEUED, 1)
