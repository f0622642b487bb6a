"""
Answers graded the ways the tests need: through the queue's Python API (``Queue``), or over real HTTP
as the LMS and xqueue-watcher do (``Grading`` for one answer, ``run_loop`` for many); and grader replies.
"""

from __future__ import annotations

import itertools
import json

from tests.support.accounts import GRADER_PASSWORD, GRADER_USER, LMS_PASSWORD, LMS_USER
from tests.support.lms import FakeLms, submission_for
from xqueue_bridge import api
from xqueue_bridge.intake.parsing import parse_reply, parse_submit
from xqueue_bridge.models import Submission
from xqueue_bridge.runtime.clients import GraderClient, LmsClient, make_body, make_header

REPLY = {"correct": True, "score": 1.0, "msg": "<p>All tests passed</p>"}
_numbers = itertools.count(1)


def reply(correct=True, score=1.0, msg="<p>All tests passed</p>") -> str:
    """A grader's reply, as the JSON string it posts."""
    return json.dumps({"correct": correct, "score": score, "msg": msg})


class Queue:
    """Drive the queue through its Python API, as the views do: submit, pull, reply."""

    def __init__(self, lms: FakeLms, queue_name: str = "test-pull"):
        self.lms, self.queue_name = lms, queue_name

    def submit(self, *, key: str | None = None, user_id: int | None = None, block: str | None = None,
               anonymous_id: str | None = None, points_possible: int | None = None):
        n = next(_numbers)
        key = key or f"lms-key-{n:06d}-{'x' * 8}"
        url = self.lms.callback_url(user_id=user_id or n, block=block or f"p{n}")
        header, body = submission_for(url, queue=self.queue_name, key=key, answer=f"answer {n}",
                                      anonymous_id=anonymous_id or f"anon-{n}")
        fields = {"xqueue_header": header, "xqueue_body": body}
        if points_possible is not None:
            fields["points_possible"] = str(points_possible)
        self.lms.expect(key)
        submission, _ = api.submit(parse_submit(fields))
        return submission

    def pull(self):
        return api.pull(self.queue_name)

    def reply(self, submission, reply: dict | str = REPLY, key: str | None = None):
        body = reply if isinstance(reply, str) else json.dumps(reply)
        header = json.dumps({"submission_id": submission.pk, "submission_key": key or submission.pullkey})
        return api.put_result(parse_reply({"xqueue_header": header, "xqueue_body": body}))

    def grade(self, count: int, reply: dict | str = REPLY) -> list:
        """Submit ``count`` answers, then pull and answer each; returns the submissions."""
        submitted = [self.submit() for _ in range(count)]
        for _ in submitted:
            self.reply(self.pull(), reply)
        return submitted


def run_loop(bridge_url: str, lms_server: FakeLms, count: int) -> list[str]:
    """The LMS submits ``count`` answers and a grader answers each; returns the queue keys."""
    lms_client = LmsClient(bridge_url, LMS_USER, LMS_PASSWORD)
    grader = GraderClient(bridge_url, GRADER_USER, GRADER_PASSWORD)
    assert grader.login()
    keys = []
    for n in range(count):
        key = f"fault-key-{n:03d}-{lms_server.port}"
        lms_server.expect(key)
        header = make_header(lms_server.callback_url(user_id=100 + n, block=f"f{n}"), key, "test-pull")
        assert lms_client.submit(header, make_body(f"answer {n}", f"anon-{n}"))[0] == 0
        keys.append(key)
    for _ in range(count):
        served = grader.get_submission("test-pull")
        assert grader.put_result(served["xqueue_header"], json.dumps(REPLY)) == (True, "")
    return keys


class Grading:
    """One learner answer submitted as the LMS does and pulled as a grader does, ready for its reply."""

    def __init__(self, lms, grader, url: str, *, key: str, anonymous_id: str, points_possible: int | None = None,
                 queue: str = "test-pull"):
        self.grader = grader
        header, body = submission_for(url, key=key, anonymous_id=anonymous_id, queue=queue)
        extra = {"points_possible": str(points_possible)} if points_possible else None
        code, content = lms.submit(header, body, extra=extra)
        assert code == 0, content
        self.served = grader.get_submission(queue)
        assert self.served is not None
        self.submission = Submission.objects.get(pk=json.loads(self.served["xqueue_header"])["submission_id"])

    def put(self, body: str):
        return self.grader.put_result(self.served["xqueue_header"], body)
