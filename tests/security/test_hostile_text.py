"""
Hostile text at the edges: lone surrogates and NUL characters (text no supported database stores), deep
nesting and oversized fields are refused with a 4xx naming the field, on SQLite, MariaDB and PostgreSQL,
and nothing is recorded. Refused values are echoed cut to a short prefix, in answers and in logs.
Run this module with XQUEUE_BRIDGE_TEST_DB=sqlite, mysql and postgresql.
"""

from __future__ import annotations

import json
import logging

import pytest
import requests

from tests.conftest import GRADER_PASSWORD, GRADER_USER, callback_url_for
from tests.support.helpers import REPLY
from tests.support.sink import signature_headers
from xqueue_bridge.models import Submission
from xqueue_bridge.runtime.clients import GraderClient, make_body
from xqueue_bridge.sink import learners

SURROGATE = "an unpaired surrogate (\\ud800), which no database can store; send valid Unicode text"
NUL = "a NUL character, which the database cannot store; send text without it"


def submit_header(lms_root: str, lms_key_json: str) -> str:
    url = callback_url_for(lms_root, block="hostile")
    return f'{{"lms_callback_url": {json.dumps(url)}, "lms_key": {lms_key_json}, "queue_name": "test-pull"}}'


@pytest.mark.parametrize(
    ("lms_key", "body", "message"),
    [
        ('"key-\\ud800"', make_body("x", "anon-1"), f"xqueue_header lms_key contains {SURROGATE}"),
        ('"\\udfff"', make_body("x", "anon-1"), "xqueue_header lms_key contains an unpaired surrogate (\\udfff), "
                                               "which no database can store; send valid Unicode text"),
        ('"key-1"', json.dumps({"student_info": '{"anonymous_student_id": "anon-\\ud800"}'}),
         f"xqueue_body student_info.anonymous_student_id contains {SURROGATE}"),
        ('"key-1"', json.dumps({"student_info": '{"anonymous_student_id": "anon-\\u0000"}'}),
         f"xqueue_body student_info.anonymous_student_id contains {NUL}"),
    ],
    ids=["lms_key-high", "lms_key-low", "anonymous_id-surrogate", "anonymous_id-nul"],
)
def test_text_a_database_cannot_store_is_a_400_naming_the_field_at_submit(
    bridge_url, lms_session, lms_server, lms_key, body, message
):
    """Finding 3: a JSON \\ud800 escape in lms_key or the anonymous id was a 500 on every database."""
    response = lms_session.post(f"{bridge_url}/xqueue/submit/", data={
        "xqueue_header": submit_header(f"http://127.0.0.1:{lms_server.port}", lms_key), "xqueue_body": body})

    assert response.status_code == 400
    assert response.json() == {"return_code": 1, "content": message}
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    ("key_json", "message"),
    [('"\\ud800"', f"xqueue_header submission_key contains {SURROGATE}"),
     ('"abc\\u0000"', f"xqueue_header submission_key contains {NUL}")],
    ids=["surrogate", "nul"],
)
def test_a_pullkey_a_database_cannot_store_is_a_400_naming_the_field(bridge_url, queue, key_json, message):
    submission = queue.submit()
    grader = GraderClient(bridge_url, GRADER_USER, GRADER_PASSWORD)
    assert grader.get_submission("test-pull") is not None
    header = f'{{"submission_id": {submission.pk}, "submission_key": {key_json}}}'

    response = grader.session.post(f"{bridge_url}/xqueue/put_result/",
                                   data={"xqueue_header": header, "xqueue_body": json.dumps(REPLY)})

    assert response.status_code == 400
    assert response.json() == {"return_code": 1, "content": message}
    submission.refresh_from_db()
    assert (submission.status, submission.grader_reply) == ("pulled", "")


def test_a_nul_in_the_user_name_at_login_is_a_400_naming_the_field(bridge_url):
    """Finding 3: ``username=l%00ms`` was a 500 (DataError) on PostgreSQL."""
    response = requests.post(f"{bridge_url}/xqueue/login/", data={"username": "l\x00ms", "password": "x"})

    assert response.status_code == 400
    assert response.json() == {"return_code": 1, "content": f"username contains {NUL}"}
    assert "sessionid" not in response.cookies


def test_a_5000_digit_submission_id_is_echoed_cut_to_a_prefix_in_the_answer_and_the_log(bridge_url, caplog):
    """Finding 5: a refused 5,000-digit submission_id was echoed whole."""
    caplog.set_level(logging.DEBUG)
    grader = GraderClient(bridge_url, GRADER_USER, GRADER_PASSWORD)
    assert grader.login()
    digits = "9" * 5000
    answers = []
    for value in (json.dumps(digits), "4" * 4000):  # as a string, and as a JSON number
        header = f'{{"submission_id": {value}, "submission_key": "k"}}'
        answers.append(grader.session.post(f"{bridge_url}/xqueue/put_result/",
                                           data={"xqueue_header": header, "xqueue_body": "{}"}))

    assert [answer.status_code for answer in answers] == [400, 400]
    assert answers[0].json()["content"] == (
        "xqueue_header submission_id '99999999999999999999999999999999'... (5000 characters) is not a submission id"
    )
    assert answers[1].json()["content"] == (
        "xqueue_header submission_id 44444444444444444444444444444444... (4000 characters) is out of range"
    )
    assert "9" * 100 not in caplog.text and "4" * 100 not in caplog.text
    assert "(5000 characters)" in caplog.text


# --- the stand-in receiving end -------------------------------------------------------------------------


@pytest.fixture
def receiving_ends_on(settings):
    settings.XQUEUE_BRIDGE = {**settings.XQUEUE_BRIDGE, "RECEIVING_ENDS": True}


def post_signed(url: str, header: str, body: str) -> requests.Response:
    return requests.post(url, data={"xqueue_header": header, "xqueue_body": body},
                         headers=signature_headers(header, body))


@pytest.mark.parametrize(
    ("field", "value", "status", "message"),
    [
        ("xqueue_body", "[" * 100_000, 400, "xqueue_body is nested too deeply"),
        ("xqueue_header", "[" * 100_000, 400, "xqueue_header is nested too deeply"),
        ("xqueue_body", "x" * (1024 * 1024 + 1), 413, "xqueue_body is larger than 1048576 bytes"),
    ],
    ids=["deep-body", "deep-header", "big-body"],
)
def test_the_stand_in_gives_hostile_fields_the_limits_of_the_xqueue_api(
    bridge_url, receiving_ends_on, settings, field, value, status, message
):
    """Finding 3: the sink answered 500 with a traceback for deeply nested JSON."""
    settings.XQUEUE_BRIDGE = {**settings.XQUEUE_BRIDGE, "MAX_REPLY_BYTES": 1024 * 1024}
    learners.begin_attempt("course-v1:BridgeX+Code101+2026", "block-v1:BridgeX+Code101+2026+type@problem+block@h1",
                           "7", "anon-7", "key-h1")
    url = callback_url_for(bridge_url, block="h1")
    fields = {"xqueue_header": json.dumps({"lms_key": "key-h1"}), "xqueue_body": json.dumps(REPLY)}
    fields[field] = value

    response = post_signed(url, fields["xqueue_header"], fields["xqueue_body"])

    assert (response.status_code, response.text) == (status, message)
    state = learners.problem_state("block-v1:BridgeX+Code101+2026+type@problem+block@h1", user_id="7")
    assert state.queuekey == "key-h1"


@pytest.mark.parametrize(
    ("user_id", "lms_key", "message"),
    [("7%00", "key-1", f"user id contains {NUL}"),
     ("7", "key-\ud800", f"xqueue_header lms_key contains {SURROGATE}"),
     ("7", "key-\x00", f"xqueue_header lms_key contains {NUL}")],
    ids=["nul-user-id", "surrogate-key", "nul-key"],
)
def test_the_stand_in_refuses_text_a_database_cannot_store_with_400(
    bridge_url, receiving_ends_on, user_id, lms_key, message
):
    """Finding 3: a NUL in the user id was a 500 on PostgreSQL."""
    url = callback_url_for(bridge_url, block="h2").replace("/xqueue/7/", f"/xqueue/{user_id}/")
    header = json.dumps({"lms_key": lms_key})

    response = post_signed(url, header, json.dumps(REPLY))

    assert (response.status_code, response.text) == (400, message)
