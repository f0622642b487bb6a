"""The standalone xqueue_callback through Django's test client: every answer the LMS's view gives."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from tests.sink import factories
from tests.sink.factories import KEY, USAGE, USER, callback_path, queue, reply
from tests.support.sink import SignedClient
from xqueue_bridge.render.capa import INVALID_REPLY_MSG
from xqueue_bridge.sink import learners

pytestmark = pytest.mark.django_db

HEADER = json.dumps({"lms_callback_url": "http://lms/x", "lms_key": KEY, "queue_name": "python-grader"})


@pytest.fixture
def client():
    # The LMS's view is CSRF-exempt: XQueue posts without a token. The stand-in accepts only callbacks
    # the bridge signed (tests/sink/test_receiving_end_auth.py), so this client signs as the bridge does.
    return SignedClient(enforce_csrf_checks=True)


def post(client, body: str, *, header: str = HEADER, path: str | None = None):
    return client.post(path or callback_path(), {"xqueue_header": header, "xqueue_body": body})


def test_score_update_is_applied_and_answered_with_an_empty_200(client):
    queue()

    response = post(client, reply(correct=True, score=1, msg="<p>All tests passed</p>"))

    assert response.status_code == 200 and response.content == b""
    state = factories.state()
    assert (state.correctness, state.npoints, state.queuekey) == ("correct", 1.0, None)
    assert [(u.via, u.applied) for u in factories.updates()] == [("callback", True)]


def test_duplicate_callback_is_answered_200_and_changes_nothing(client):
    queue()
    post(client, reply(score=1, msg="<p>first</p>"))

    response = post(client, reply(score=0, msg="<p>second</p>"))

    assert response.status_code == 200
    assert (factories.state().npoints, factories.state().msg) == (1.0, "<p>first</p>")
    assert [u.applied for u in factories.updates()] == [True, False]


def test_stale_callback_after_a_resubmission_is_answered_200_and_changes_nothing(client):
    queue(queuekey="old-key")
    queue(queuekey="new-key")

    response = post(client, reply(score=1), header=json.dumps({"lms_key": "old-key"}))

    assert response.status_code == 200
    assert (factories.state().queuekey, factories.state().correctness) == ("new-key", "incomplete")


def test_invalid_reply_is_answered_200_and_shown_to_the_learner(client):
    queue()

    response = post(client, "Traceback (most recent call last): ...")

    assert response.status_code == 200
    assert factories.state().msg == INVALID_REPLY_MSG
    assert INVALID_REPLY_MSG in factories.state().feedback_html


@pytest.mark.parametrize(
    "data",
    [{"xqueue_body": reply()}, {"xqueue_header": HEADER}, {}],
    ids=["no-header", "no-body", "no-fields"],
)
def test_missing_field_is_404(client, data):
    queue()

    response = client.post(callback_path(), data)

    assert response.status_code == 404
    assert factories.updates() == []


def test_get_is_404(client):
    queue()

    assert client.get(callback_path(), {"xqueue_header": HEADER, "xqueue_body": reply()}).status_code == 404


@pytest.mark.parametrize(
    "header",
    ['["lms_key"]', '"lms_key"', "42", "null", json.dumps({"queue_name": "q"})],
    ids=["list", "string", "number", "null", "no-lms-key"],
)
def test_header_that_is_not_an_object_with_lms_key_is_404(client, header):
    queue()

    response = post(client, reply(), header=header)

    assert response.status_code == 404
    assert factories.state().queuekey == KEY


@pytest.mark.parametrize("header", ["not json", "", "{lms_key: 1}"], ids=["text", "empty", "loose-json"])
def test_header_that_is_not_json_is_500_as_in_the_lms(client, header):
    queue()

    response = post(client, reply(), header=header)

    assert response.status_code == 500
    assert factories.state().queuekey == KEY and factories.updates() == []


@pytest.mark.parametrize(
    "path",
    [
        callback_path(user_id="8"),
        callback_path(usage_key=USAGE.replace("p1", "p2")),
        callback_path(course_id="course-v1:Org+Other+Run"),
    ],
    ids=["unknown-learner", "unknown-problem", "other-course"],
)
def test_unknown_learner_or_problem_is_404(client, path):
    queue()

    response = post(client, reply(), path=path)

    assert response.status_code == 404
    assert factories.state().queuekey == KEY


@pytest.mark.parametrize("dispatch", ["problem_check", "problem_reset", "score"])
def test_other_dispatch_is_404(client, dispatch):
    queue()

    response = post(client, reply(), path=callback_path(dispatch=dispatch))

    assert response.status_code == 404
    assert factories.state().queuekey == KEY


@pytest.mark.parametrize("score", ["ten", None, [1]])
def test_reply_the_lms_fails_on_is_500_and_applies_nothing(client, score):
    queue()

    response = post(client, reply(score=score))

    assert response.status_code == 500
    assert b"not a number" in response.content
    assert (factories.state().queuekey, factories.state().correctness) == (KEY, "incomplete")
    [logged] = factories.updates()
    assert not logged.applied and logged.error


def test_receiving_ends_off_is_404_and_changes_nothing(client):
    queue()

    with override_settings(XQUEUE_BRIDGE={"RECEIVING_ENDS": False}):
        response = post(client, reply())

    assert response.status_code == 404
    assert factories.state().queuekey == KEY and factories.updates() == []


def test_old_style_course_and_usage_key_with_slashes(client):
    course_id = "Org/Course/Run"
    usage_key = "i4x://Org/Course/problem/p;1"
    learners.begin_attempt(course_id, usage_key, USER, "anon-old", KEY)
    path = callback_path(course_id=course_id, usage_key=usage_key)
    assert "/xqueue/7/i4x:;_;_Org;_Course;_problem;_p;;1/score_update" in path

    response = post(client, reply(score=1), path=path)

    assert response.status_code == 200
    assert learners.problem_state(usage_key, user_id=USER).npoints == 1.0


def test_percent_encoded_path_reaches_the_same_problem(client):
    queue()
    path = (
        "/courses/course-v1%3AOrg%2BCourse%2BRun/xqueue/7/"
        "block-v1%3AOrg%2BCourse%2BRun%2Btype%40problem%2Bblock%40p1/score_update"
    )

    response = post(client, reply(score=1), path=path)

    assert response.status_code == 200
    assert factories.state().npoints == 1.0


def test_usage_key_with_unquoted_slashes_reaches_the_view_as_in_the_lms(client):
    usage_key = "i4x://Org/Course/problem/p2"
    learners.begin_attempt("Org/Course/Run", usage_key, USER, "anon-old", KEY)

    response = post(
        client, reply(score=1), path=f"/courses/Org/Course/Run/xqueue/{USER}/{usage_key}/score_update"
    )

    assert response.status_code == 200
    assert learners.problem_state(usage_key, user_id=USER).npoints == 1.0


def test_ungraded_response_records_the_message_without_scoring(client):
    queue()

    response = post(client, '{"msg": "<p>plot ready</p>"}', path=callback_path(dispatch="ungraded_response"))

    assert response.status_code == 200
    state = factories.state()
    assert (state.ungraded_msg, state.correctness, state.npoints, state.queuekey) == (
        "<p>plot ready</p>",
        "incomplete",
        None,
        KEY,
    )


def test_ungraded_response_that_is_not_json_is_500(client):
    queue()

    response = post(client, "plot ready", path=callback_path(dispatch="ungraded_response"))

    assert response.status_code == 500
    assert factories.state().ungraded_msg == ""


def test_a_stale_ungraded_response_that_is_not_json_is_a_200_no_op(client):
    queue()

    stale = json.dumps({"lms_callback_url": "http://lms/x", "lms_key": "stale-key", "queue_name": "python-grader"})
    response = post(client, "plot ready", header=stale, path=callback_path(dispatch="ungraded_response"))

    assert response.status_code == 200
    state = factories.state()
    assert (state.ungraded_msg, state.queuekey) == ("", KEY)
