"""
Secrets (the LMS's queue key, pullkeys, passwords) never appear in logs, error messages, stored errors or
command output, across the whole loop and its failures: wrong logins, stale keys, an LMS answering 500 and
then down, an event receiver whose error quotes the queue key, a failure inside the reply's transaction,
given-up deliveries, failure notices, listing and replay.
"""

from __future__ import annotations

import json
import logging
from io import StringIO

import requests
from django.core.management import call_command

from tests.support.helpers import FAST_RETRY, REPLY, bridge_settings, wait_for
from tests.support.lms import Fault, FaultPlan
from xqueue_bridge import signals
from xqueue_bridge.management.commands.users import ensure_user
from xqueue_bridge.models import Delivery, Submission
from xqueue_bridge.outbox import runners
from xqueue_bridge.runtime.clients import GraderClient, LmsClient, make_body, make_header

LMS_PASSWORD = "lms-pw-7Qx2-not-for-logs"
GRADER_PASSWORD = "grader-pw-9Kd4-not-for-logs"
WRONG_PASSWORD = "wrong-pw-3Zt8-not-for-logs"
CALLBACK_KEY = "queuekey-cb-5b1f0a9e2d7c4e3f"
EVENT_KEY = "queuekey-ev-8e2d4c6a0b1f3a5d"
ROLLBACK_KEY = "queuekey-rb-1c3e5a7f9b2d4f6a"


def test_no_secret_leaks_anywhere_across_the_whole_loop_and_its_failures(
    live_server, drainer, lms_server, receiver, set_stage, caplog
):
    caplog.set_level(logging.DEBUG)
    ensure_user("lms-secret", LMS_PASSWORD, role="lms")
    ensure_user("grader-secret", GRADER_PASSWORD, role="grader")
    url = live_server.url
    seen: list[str] = []  # every answer a client got back

    def post(session, path, data):
        response = session.post(url + path, data=data)
        seen.append(response.text)
        return response

    # Wrong passwords first.
    for user in ("lms-secret", "grader-secret"):
        seen.append(requests.post(f"{url}/xqueue/login/", data={"username": user, "password": WRONG_PASSWORD}).text)

    lms_client = LmsClient(url, "lms-secret", LMS_PASSWORD)
    grader = GraderClient(url, "grader-secret", GRADER_PASSWORD)
    assert grader.login()
    lms_server.fault_for = FaultPlan(failures=3, fault=Fault("status", status=500))
    receiver.failing = lambda score, nth: nth <= 3  # its error message quotes the queue key

    with bridge_settings(DELIVERY_MODE="thread", DELIVERY_RETRY={**FAST_RETRY, "max_attempts": 2}):
        # A callback-path result: the LMS fails, the result is given up, the failure notice gets through.
        for key in (CALLBACK_KEY,):
            lms_server.expect(key)
            header = make_header(lms_server.callback_url(user_id=1, block="s1"), key, "test-pull")
            assert lms_client.submit(header, make_body("answer", "anon-s1"))[0] == 0
        served = grader.get_submission("test-pull")
        pullkeys = [json.loads(served["xqueue_header"])["submission_key"]]
        stale = json.dumps({"submission_id": json.loads(served["xqueue_header"])["submission_id"],
                            "submission_key": pullkeys[0][::-1]})
        post(grader.session, "/xqueue/put_result/", {"xqueue_header": stale, "xqueue_body": json.dumps(REPLY)})
        assert post(grader.session, "/xqueue/put_result/",
                    {"xqueue_header": served["xqueue_header"], "xqueue_body": json.dumps(REPLY)}).ok

        # An event-path result whose receiver raises with the key in its message, then an unscorable reply.
        set_stage("event")
        header = make_header(lms_server.callback_url(user_id=2, block="s2"), EVENT_KEY, "test-pull")
        assert lms_client.submit(header, make_body("answer", "anon-s2"))[0] == 0
        served = grader.get_submission("test-pull")
        pullkeys.append(json.loads(served["xqueue_header"])["submission_key"])
        post(grader.session, "/xqueue/put_result/", {"xqueue_header": served["xqueue_header"], "xqueue_body": "oops"})
        served = grader.get_submission("test-pull")
        pullkeys.append(json.loads(served["xqueue_header"])["submission_key"])
        post(grader.session, "/xqueue/put_result/",
             {"xqueue_header": served["xqueue_header"], "xqueue_body": json.dumps(REPLY)})

        # A failure inside the reply's transaction whose message quotes the key and the pullkey.
        set_stage("callback")
        header = make_header(lms_server.callback_url(user_id=3, block="s3"), ROLLBACK_KEY, "test-pull")
        assert lms_client.submit(header, make_body("answer", "anon-s3"))[0] == 0
        served = grader.get_submission("test-pull")
        pullkeys.append(json.loads(served["xqueue_header"])["submission_key"])

        def fail(submission, **kwargs):
            raise RuntimeError(f"cannot store {submission.lms_key} under {submission.pullkey}")

        signals.reply_accepted.connect(fail, dispatch_uid="test-secret-failure")
        try:
            failed = post(grader.session, "/xqueue/put_result/",
                          {"xqueue_header": served["xqueue_header"], "xqueue_body": json.dumps(REPLY)})
        finally:
            signals.reply_accepted.disconnect(dispatch_uid="test-secret-failure")
        assert failed.status_code == 500 and failed.json()["return_code"] == 1

        settled = wait_for(lambda: not Delivery.objects.filter(status="pending").exists())
        assert settled and runners.wait_for_threads()

    kinds = sorted(Delivery.objects.values_list("kind", "path", "status"))
    assert ("result", "callback", "dead") in kinds and ("result", "event", "dead") in kinds
    assert ("failure_notice", "callback", "delivered") in kinds

    def stored_texts() -> list[str]:
        return [
            *Delivery.objects.values_list("last_error", flat=True),
            *Submission.objects.values_list("last_refusal", flat=True),
            *Submission.objects.values_list("stage_reason", flat=True),
        ]

    stored = stored_texts()
    out = StringIO()
    call_command("deliveries", "--status", "dead", "--format", "json", stdout=out)
    call_command("deliveries", stdout=out)
    call_command("replay", "--queue", "test-pull", "--dry-run", stdout=out)
    with bridge_settings(DELIVERY_MODE="thread"):
        call_command("replay", "--queue", "test-pull", stdout=out)
    runners.wait_for_threads()
    stored += stored_texts()

    secrets = [CALLBACK_KEY, EVENT_KEY, ROLLBACK_KEY, LMS_PASSWORD, GRADER_PASSWORD, WRONG_PASSWORD, *pullkeys]
    logged = "\n".join(
        [caplog.text, *(record.getMessage() for record in caplog.records)]
        + [logging.Formatter().formatException(record.exc_info) for record in caplog.records if record.exc_info]
    )
    assert "receiver raised RuntimeError: receiver unavailable for queue key [redacted]" in stored
    assert any("Internal error" in text for text in seen)
    for secret in secrets:
        assert secret not in logged, f"a secret is in the logs: {secret}"
        assert all(secret not in text for text in seen), f"a secret is in an answer: {secret}"
        assert all(secret not in text for text in stored), f"a secret is in a stored error: {secret}"
        assert secret not in out.getvalue(), f"a secret is in command output: {secret}"
    assert len(caplog.records) > 10  # the failures above were logged, just without their secrets
