"""The XQueue HTTP API over a real HTTP server: the loop, the stage's path, and the protocol's habits."""

from __future__ import annotations

import json

import requests

from tests.support.config import bridge_settings
from tests.support.grading import REPLY, Grading
from tests.support.lms import COURSE, submission_for, usage_key_for
from xqueue_bridge.models import Delivery, Submission


def test_callback_stage_loop_delivers_reply_verbatim_to_the_lms(lms, grader, lms_server):
    url = lms_server.callback_url()
    header, body = submission_for(url)
    assert lms.submit(header, body) == (0, "1")

    served = grader.get_submission("test-pull")
    assert served["xqueue_body"] == body
    assert json.loads(served["xqueue_files"]) == {}
    reply = json.dumps(REPLY)
    assert grader.put_result(served["xqueue_header"], reply) == (True, "")

    assert len(lms_server.calls) == 1
    call = lms_server.calls[0]
    assert call["form"] == {"xqueue_header": header, "xqueue_body": reply}
    assert call["path"] == url.split(str(lms_server.port), 1)[1]
    delivery = Delivery.objects.get()
    assert (delivery.path, delivery.status, delivery.attempts) == ("callback", "delivered", 1)


def test_callback_stage_loop_updates_what_the_learner_sees(lms, grader, learner):
    from xqueue_bridge.sink import learners

    url, usage_key = learner(user_id=11, anonymous_id="anon-11", queuekey="qk-11")
    header, body = submission_for(url, key="qk-11", anonymous_id="anon-11")
    assert lms.submit(header, body) == (0, "1")
    served = grader.get_submission("test-pull")
    reply = json.dumps({"correct": True, "score": 1, "msg": "<p>Well done</p>"})
    assert grader.put_result(served["xqueue_header"], reply) == (True, "")

    state = learners.problem_state(usage_key, course_id=COURSE, user_id="11")
    assert (state.correctness, state.npoints, state.queuekey) == ("correct", 1, None)
    assert "Well done" in state.feedback_html
    [update] = learners.learner_updates(usage_key, course_id=COURSE, user_id="11")
    assert update.via == "callback" and update.applied


def test_event_stage_loop_sends_the_score_event(lms, grader, learner, captured_events, stage):
    from xqueue_bridge.sink import learners

    stage("event")
    url, usage_key = learner(user_id=42, anonymous_id="anon-42", queuekey="queue-key-9", max_score=4)
    grading = Grading(lms, grader, url, key="queue-key-9", anonymous_id="anon-42", points_possible=4)
    reply = json.dumps({"correct": False, "score": 0.75, "msg": "<p>3 of 4</p>"})
    assert grading.put(reply) == (True, "")

    [score] = captured_events
    submission = Submission.objects.get()
    assert score.points_possible == 4 and score.points_earned == 3
    assert score.score_msg == reply
    assert score.user_id == "anon-42" and score.queue_key == "queue-key-9" and score.queue_name == "test-pull"
    assert score.course_id == COURSE and score.submission_id == submission.pk
    assert score.module_id == usage_key == submission.usage_key
    # The LMS receiver renders the raw reply: capa's npoints is the grader's score, not the rounded points.
    state = learners.problem_state(usage_key, anonymous_student_id="anon-42")
    assert (state.correctness, state.npoints, state.queuekey) == ("incorrect", 0.75, None)
    [update] = learners.learner_updates(usage_key, anonymous_student_id="anon-42")
    assert update.via == "event" and update.applied


def test_submit_records_stage_and_reason(lms, lms_server, stage):
    stage("shadow_event", course=COURSE)
    header, body = submission_for(lms_server.callback_url())
    assert lms.submit(header, body)[0] == 0
    submission = Submission.objects.get()
    assert submission.stage == "shadow_event"
    assert submission.stage_reason == "course override by tests " + submission.created_at.strftime("%Y-%m-%d") + \
        ": set by the test"


def test_lms_client_logs_in_when_told_login_required(bridge_url, lms_server):
    from xqueue_bridge.runtime.clients import LmsClient

    client = LmsClient(bridge_url, "lms", "lms-password")
    header, body = submission_for(lms_server.callback_url())
    assert client.submit(header, body) == (0, "1")  # first POST is redirected to login_required, then resent
    assert Submission.objects.count() == 1


def test_unauthenticated_submit_ends_in_login_required_with_http_200(bridge_url, lms_server):
    header, body = submission_for(lms_server.callback_url())
    response = requests.post(f"{bridge_url}/xqueue/submit/", data={"xqueue_header": header, "xqueue_body": body})
    assert response.status_code == 200
    assert response.json() == {"return_code": 1, "content": "login_required"}
    assert Submission.objects.count() == 0


def test_login_get_sets_csrf_cookie(bridge_url):
    response = requests.get(f"{bridge_url}/xqueue/login/")
    assert response.status_code == 200
    assert "csrftoken" in response.cookies
    assert response.json() == {"return_code": 1, "content": "login_required"}


def test_status_logout_and_queue_length(bridge_url, lms, grader, lms_server):
    assert requests.get(f"{bridge_url}/xqueue/status/").json() == {"return_code": 0, "content": "OK"}
    for user_id in (1, 2, 3):
        header, body = submission_for(lms_server.callback_url(user_id=user_id))
        assert lms.submit(header, body) == (0, str(user_id))
    assert grader.get_queuelen("test-pull") == (True, 3)
    grader.get_submission("test-pull")
    assert grader.get_queuelen("test-pull") == (True, 2)
    response = grader.session.post(f"{bridge_url}/xqueue/logout/")
    assert response.json() == {"return_code": 0, "content": "Goodbye"}
    anonymous = grader.session.get(f"{bridge_url}/xqueue/get_queuelen/", params={"queue_name": "test-pull"},
                                   allow_redirects=False)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].endswith("/xqueue/login/")


def test_empty_queue_answers_return_code_1(grader):
    response = grader.session.get(f"{grader.base_url}/xqueue/get_submission/", params={"queue_name": "test-pull"})
    assert response.status_code == 200
    assert response.json() == {"return_code": 1, "content": "Queue 'test-pull' is empty"}


def test_new_submit_retires_the_older_live_submission(lms, grader, lms_server):
    url = lms_server.callback_url()
    first_header, body = submission_for(url, key="k1")
    second_header, _ = submission_for(url, key="k2")
    lms.submit(first_header, body)
    served_first = grader.get_submission("test-pull")
    assert lms.submit(second_header, body) == (0, "1")

    ok, content = grader.put_result(served_first["xqueue_header"], json.dumps(REPLY))
    assert not ok and "newer submission" in content
    served_second = grader.get_submission("test-pull")
    assert json.loads(served_second["xqueue_header"])["submission_id"] != json.loads(
        served_first["xqueue_header"])["submission_id"]
    assert grader.put_result(served_second["xqueue_header"], json.dumps(REPLY)) == (True, "")
    assert [c["form"]["xqueue_header"] for c in lms_server.calls] == [second_header]


def test_each_pull_gets_a_fresh_pullkey_and_a_stale_reply_is_refused(lms, grader, lms_server):
    header, body = submission_for(lms_server.callback_url())
    lms.submit(header, body)
    with bridge_settings(PULL_TIMEOUT=0):
        first = grader.get_submission("test-pull")
        second = grader.get_submission("test-pull")  # unanswered past the timeout: served again
    first_key = json.loads(first["xqueue_header"])["submission_key"]
    second_key = json.loads(second["xqueue_header"])["submission_key"]
    assert first_key != second_key and len(second_key) >= 32

    response = grader.session.post(f"{grader.base_url}/xqueue/put_result/",
                                   data={"xqueue_header": first["xqueue_header"], "xqueue_body": json.dumps(REPLY)})
    assert response.status_code == 409
    assert response.json() == {"return_code": 1, "content": "Incorrect key for submission"}
    assert lms_server.calls == []
    assert grader.put_result(second["xqueue_header"], json.dumps(REPLY)) == (True, "")
    assert len(lms_server.calls) == 1


def test_a_pulled_submission_is_not_served_again_within_the_timeout(lms, grader, lms_server):
    header, body = submission_for(lms_server.callback_url())
    lms.submit(header, body)
    assert grader.get_submission("test-pull") is not None
    assert grader.get_submission("test-pull") is None


def test_duplicate_put_result_delivers_once(lms, grader, lms_server):
    header, body = submission_for(lms_server.callback_url())
    lms.submit(header, body)
    served = grader.get_submission("test-pull")
    reply = json.dumps(REPLY)
    assert grader.put_result(served["xqueue_header"], reply) == (True, "")
    assert grader.put_result(served["xqueue_header"], reply) == (True, "")  # a grader's timeout retry
    assert len(lms_server.calls) == 1
    assert Delivery.objects.count() == 1

    ok, content = grader.put_result(served["xqueue_header"], json.dumps({**REPLY, "score": 0}))
    assert not ok and "already has an accepted result" in content
    assert len(lms_server.calls) == 1


def test_uploaded_files_are_stored_and_served_back_as_urls(lms, grader, lms_server, tmp_path):
    source = tmp_path / "answer.py"
    source.write_text("def double(x):\n    return 2 * x\n")
    header, body = submission_for(lms_server.callback_url())
    with open(source, "rb") as upload:
        assert lms.submit(header, body, files={"answer.py": upload})[0] == 0
    served = grader.get_submission("test-pull")
    files = json.loads(served["xqueue_files"])
    assert list(files) == ["answer.py"]
    assert files["answer.py"].startswith(grader.base_url + "/xqueue/files/")
    fetched = requests.get(files["answer.py"])
    assert fetched.status_code == 200 and fetched.content == source.read_bytes()
    guessed = requests.get(files["answer.py"].rsplit("/", 2)[0] + "/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/answer.py")
    assert guessed.status_code == 404


def test_basic_auth_in_front_when_configured(bridge_url, lms_server):
    from xqueue_bridge.runtime.clients import LmsClient

    header, body = submission_for(lms_server.callback_url())
    with bridge_settings(HTTP_BASIC_AUTH=("edge", "s3cret")):
        refused = requests.post(f"{bridge_url}/xqueue/login/", data={"username": "lms", "password": "lms-password"})
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Basic")
        client = LmsClient(bridge_url, "lms", "lms-password", basic_auth=("edge", "s3cret"))
        assert client.submit(header, body) == (0, "1")


def test_points_possible_comes_from_the_submit_or_the_table_by_problem_course_and_queue(lms, lms_server):
    with bridge_settings(POINTS_POSSIBLE={usage_key_for(COURSE, "heavy"): 5, COURSE: 3, "queue:other-queue": 2}):
        for block, queue, extra in [("heavy", "test-pull", {}), ("light", "test-pull", {}),
                                    ("light2", "test-pull", {"points_possible": "7"})]:
            header, body = submission_for(lms_server.callback_url(block=block), queue=queue)
            assert lms.submit(header, body, extra=extra)[0] == 0
        header, body = submission_for(
            lms_server.callback_url(course_id="course-v1:Else+X+2026", block="q"), queue="other-queue")
        assert lms.submit(header, body)[0] == 0
        header, body = submission_for(lms_server.callback_url(course_id="course-v1:Else+X+2026", block="r"))
        assert lms.submit(header, body)[0] == 0
    assert list(Submission.objects.order_by("id").values_list("points_possible", flat=True)) == [5, 3, 7, 2, 1]


def test_pull_requests_without_a_queue_or_for_an_unknown_queue_are_refused_and_change_nothing(
    grader, lms, lms_server
):
    header, body = submission_for(lms_server.callback_url())
    assert lms.submit(header, body) == (0, "1")
    for endpoint in ("get_queuelen", "get_submission"):
        url = f"{grader.base_url}/xqueue/{endpoint}/"
        for params in ({}, {"queue_name": ""}):
            missing = grader.session.get(url, params=params)
            assert missing.status_code == 400
            assert missing.json() == {"return_code": 1, "content": f"'{endpoint}' must provide parameter 'queue_name'"}
        unknown = grader.session.get(url, params={"queue_name": "no-such-queue"})
        assert unknown.status_code == 404
        assert unknown.json() == {
            "return_code": 1,
            "content": "Queue 'no-such-queue' not found; valid queues: test-pull, python-grader, other-queue",
        }
    submission = Submission.objects.get()
    assert (submission.status, submission.pullkey, submission.pull_count) == ("queued", "", 0)
    assert grader.get_queuelen("test-pull") == (True, 1)


def test_login_without_username_or_password_says_what_is_missing(bridge_url):
    for form in ({}, {"username": "lms"}, {"password": "lms-password"}, {"username": "", "password": "x"}):
        response = requests.post(f"{bridge_url}/xqueue/login/", data=form)
        assert response.status_code == 400
        assert response.json() == {"return_code": 1, "content": "Insufficient login info: POST username and password"}
        assert "sessionid" not in response.cookies
