"""
The bad-input corpus over HTTP: every malformed or hostile submit and reply gets its specific error (or
the legacy-defined outcome), a refused request changes nothing, and everything accepted is delivered.
"""

from __future__ import annotations

import json

import pytest
import requests

from tests.badinput.corpus import EVENT_REPLIES, POINTS_POSSIBLE, REPLIES, SUBMITS, Case
from tests.conftest import GRADER_PASSWORD, GRADER_USER
from tests.support.helpers import REPLY
from xqueue_bridge.models import Delivery, Submission
from xqueue_bridge.runtime.clients import GraderClient

GOOD = json.dumps(REPLY)


def test_the_corpus_has_at_least_forty_cases_of_each_kind_each_named_once():
    replies = REPLIES + EVENT_REPLIES
    assert len(SUBMITS) >= 40 and len(replies) >= 40
    assert len({case.name for case in SUBMITS}) == len(SUBMITS)
    assert len({case.name for case in replies}) == len(replies)


def fill(text: str, values: dict[str, str]) -> str:
    for token, value in values.items():
        text = text.replace("{" + token + "}", value)
    return text


def send(session: requests.Session, url: str, case: Case, values: dict[str, str]) -> requests.Response:
    if case.method == "GET":
        return session.get(url)
    if case.fields is None:
        return session.post(url, data=case.raw, headers={"Content-Type": case.content_type})
    return session.post(url, data={name: fill(value, values) for name, value in case.fields.items()})


def check_answer(response: requests.Response, case: Case, values: dict[str, str]) -> None:
    expected = fill(case.content, values)
    assert response.status_code == case.status, (case.name, response.status_code, response.text[:300])
    body = response.json()
    assert body["return_code"] == (0 if case.accepted else 1), case.name
    if expected.endswith("..."):
        assert body["content"].startswith(expected[:-3]), (case.name, body["content"])
    else:
        assert body["content"] == expected, case.name


@pytest.fixture
def grader(bridge_url):
    client = GraderClient(bridge_url, GRADER_USER, GRADER_PASSWORD)
    assert client.login()
    return client


def test_each_bad_submit_gets_its_error_and_each_accepted_one_is_graded_and_delivered(
    bridge_url, lms_session, grader, lms_server, subtests
):
    for n, case in enumerate(SUBMITS):
        with subtests.test(case.name):
            values = {"lms": f"http://127.0.0.1:{lms_server.port}", "block": f"b{n}"}
            before = Submission.objects.count()
            response = send(lms_session, f"{bridge_url}/xqueue/submit/", case, values)
            check_answer(response, case, values)
            if not case.accepted:
                assert Submission.objects.count() == before, case.name
                continue
            # Accepted: the grader gets the LMS's body verbatim, and the result reaches the LMS.
            submission = Submission.objects.latest("id")
            lms_server.expect(submission.lms_key)
            served = grader.get_submission("test-pull")
            assert served["xqueue_body"] == fill(case.fields["xqueue_body"], values), case.name
            assert grader.put_result(served["xqueue_header"], GOOD) == (True, "")
            assert lms_server.updates.pop(submission.lms_key) == [GOOD], case.name


def run_replies(cases: list[Case], bridge_url, grader, queue, lms_server, receiver, subtests, path: str) -> None:
    for case in cases:
        with subtests.test(case.name):
            submission = queue.submit(points_possible=POINTS_POSSIBLE)
            served = grader.get_submission("test-pull")
            header = json.loads(served["xqueue_header"])
            values = {"served": served["xqueue_header"], "good": GOOD, "id": str(header["submission_id"]),
                      "key": header["submission_key"]}
            response = send(grader.session, f"{bridge_url}/xqueue/put_result/", case, values)
            check_answer(response, case, values)
            submission.refresh_from_db()
            if case.accepted:
                body = fill(case.fields["xqueue_body"], values)
                assert submission.status == "graded" and submission.grader_reply == body, case.name
            else:
                # A failed grading attempt (refused on the event path, or over the size limit on any path):
                # back in the queue, graded again.
                if case.status in (413, 422):
                    assert submission.status == "queued" and submission.last_refusal, case.name
                    served = grader.get_submission("test-pull")
                else:  # refused before anything was recorded: the grader can still answer
                    assert submission.status == "pulled" and submission.grader_reply == "", case.name
                assert not Delivery.objects.filter(submission=submission).exists(), case.name
                assert grader.put_result(served["xqueue_header"], GOOD) == (True, ""), case.name
                body = GOOD
            # Nothing accepted is lost: exactly one delivery, delivered, of the reply that was accepted.
            [delivery] = Delivery.objects.filter(submission=submission)
            assert (delivery.status, delivery.path, delivery.body) == ("delivered", path, body), case.name
            if path == "callback":
                assert lms_server.updates.pop(submission.lms_key) == [body], case.name
            else:
                [score] = receiver.applied.pop((submission.lms_key, submission.pk))
                assert score.score_msg == body, case.name


def test_each_bad_reply_gets_its_error_and_each_accepted_one_is_delivered_verbatim(
    bridge_url, grader, queue, lms_server, receiver, subtests
):
    run_replies(REPLIES, bridge_url, grader, queue, lms_server, receiver, subtests, "callback")
    assert receiver.calls == []


def test_on_the_event_path_an_unscorable_reply_is_refused_with_its_reason_and_graded_again(
    bridge_url, grader, queue, lms_server, receiver, set_stage, subtests
):
    set_stage("event")
    run_replies(EVENT_REPLIES, bridge_url, grader, queue, lms_server, receiver, subtests, "event")
    assert lms_server.calls == []
