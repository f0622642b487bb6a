"""Size limits of the intake: bodies, file count and file size are refused with a clear 413 or 400."""

from __future__ import annotations

import io
import json

import pytest
import requests

from tests.conftest import GRADER_PASSWORD, GRADER_USER
from tests.support.helpers import REPLY, bridge_settings
from xqueue_bridge.models import Delivery, Submission
from xqueue_bridge.runtime.clients import GraderClient, make_body, make_header


@pytest.fixture
def submit(bridge_url, lms_session, lms_server):
    def submit_(files=None, **extra) -> requests.Response:
        data = {
            "xqueue_header": make_header(lms_server.callback_url(), "lms-key-limits", "test-pull"),
            "xqueue_body": make_body("answer", "anon-1"),
            **extra,
        }
        return lms_session.post(f"{bridge_url}/xqueue/submit/", data=data, files=files)

    return submit_


def test_a_body_over_the_request_limit_is_refused_with_413(submit):
    with bridge_settings(MAX_REQUEST_BYTES=10_000):
        response = submit(padding="x" * 20_000)
    assert response.status_code == 413
    assert response.json()["return_code"] == 1
    assert "is over the limit of 10000" in response.json()["content"]
    assert Submission.objects.count() == 0


def test_more_files_than_allowed_are_refused_with_413(submit):
    with bridge_settings(MAX_FILES=2):
        response = submit(files={f"f{n}.py": io.BytesIO(b"x") for n in range(3)})
    assert response.status_code == 413
    assert response.json()["content"] == "3 files sent; at most 2 are accepted"
    assert Submission.objects.count() == 0


def test_more_files_than_django_parses_are_refused_with_413(submit):
    response = submit(files=[("f", (f"f{n}.py", io.BytesIO(b"x"))) for n in range(1001)])
    assert response.status_code == 413
    assert response.json()["content"].startswith("Request refused:")
    assert Submission.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused_with_413(submit):
    with bridge_settings(MAX_FILE_BYTES=1000):
        response = submit(files={"big.py": io.BytesIO(b"x" * 1001)})
    assert response.status_code == 413
    assert response.json()["content"] == "file 'big.py' has 1001 bytes; at most 1000 are accepted"
    assert Submission.objects.count() == 0


def test_two_files_under_one_name_are_refused_rather_than_one_dropped(submit):
    response = submit(files=[("answer.py", ("a.py", io.BytesIO(b"a"))), ("answer.py", ("b.py", io.BytesIO(b"b")))])
    assert response.status_code == 400
    assert response.json()["content"] == "2 files sent under the name 'answer.py'; send each under its own name"
    assert Submission.objects.count() == 0


def test_too_many_form_fields_are_refused_with_400(submit):
    response = submit(**{f"field{n}": "x" for n in range(1100)})
    assert response.status_code == 400
    assert response.json()["content"].startswith("Request refused: The number of GET/POST parameters exceeded")


def test_files_within_the_limits_are_accepted(submit):
    with bridge_settings(MAX_FILES=2, MAX_FILE_BYTES=1000):
        response = submit(files={"a.py": io.BytesIO(b"x" * 1000), "b.py": io.BytesIO(b"y")})
    assert response.json() == {"return_code": 0, "content": "1"}
    assert sorted(Submission.objects.get().files) == ["a.py", "b.py"]


def test_a_reply_over_the_reply_limit_is_refused_with_413_and_counts_a_grading_attempt(bridge_url, queue):
    submission = queue.submit()
    grader = GraderClient(bridge_url, GRADER_USER, GRADER_PASSWORD)
    assert grader.login()
    served = grader.get_submission("test-pull")
    with bridge_settings(MAX_REPLY_BYTES=1000):
        huge = json.dumps({**REPLY, "msg": "<p>" + "x" * 2000 + "</p>"})
        response = grader.session.post(f"{bridge_url}/xqueue/put_result/",
                                       data={"xqueue_header": served["xqueue_header"], "xqueue_body": huge})
        assert response.status_code == 413
        assert response.json()["content"].startswith(
            f"the reply has {len(huge)} bytes, over the limit of 1000 (MAX_REPLY_BYTES) (grading attempt 1 of 3"
        )
        submission.refresh_from_db()
        assert submission.status == "queued" and not Delivery.objects.exists()
        again = grader.get_submission("test-pull")  # graded afresh: a shorter reply is taken
        assert grader.put_result(again["xqueue_header"], json.dumps(REPLY)) == (True, "")
