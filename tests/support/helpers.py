"""
Helpers of the delivery, fault and security suites: settings overrides, bounded waits, a receiver of the
score event that can fail, and a queue driven through its Python API.
"""

from __future__ import annotations

import collections
import itertools
import json
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.test import override_settings

from tests.conftest import GRADER_PASSWORD, GRADER_USER, LMS_PASSWORD, LMS_USER
from tests.support.lms import FaultyLms
from xqueue_bridge import api
from xqueue_bridge.intake.parsing import parse_reply, parse_submit
from xqueue_bridge.runtime.clients import GraderClient, LmsClient, make_body, make_header

REPLY = {"correct": True, "score": 1.0, "msg": "<p>All tests passed</p>"}
_numbers = itertools.count(1)


def bridge_settings(**overrides):
    """``XQUEUE_BRIDGE`` with ``overrides`` for the duration of a ``with`` block."""
    return override_settings(XQUEUE_BRIDGE={**settings.XQUEUE_BRIDGE, **overrides})


FAST_RETRY = {"max_attempts": 8, "max_age": 3600, "backoff_factor": 0.02, "backoff_max": 0.1, "jitter": 0.5}


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, poll: float = 0.02) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; returns whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll)
    return condition()


class ScoreReceiver:
    """
    A receiver of EXTERNAL_GRADER_SCORE_SUBMITTED standing in for the LMS's: it applies a score once per
    (queue key, submission) and ignores repeats (the sink is idempotent), and raises while ``failing``
    says so for a call.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.calls: list = []
        self.applied: dict[tuple[str, int], list] = collections.defaultdict(list)
        self.failing: Callable[[object, int], bool] = lambda score, nth: False
        self.seen: collections.Counter = collections.Counter()

    def __call__(self, sender, signal, score, **kwargs):
        key = (score.queue_key, score.submission_id)
        with self.lock:
            self.calls.append(score)
            self.seen[key] += 1
            nth = self.seen[key]
        if self.failing(score, nth):
            raise RuntimeError(f"receiver unavailable for queue key {score.queue_key}")
        with self.lock:
            if not self.applied[key]:
                self.applied[key].append(score)

    def fail_first(self, count: int) -> None:
        """Raise on the first ``count`` calls for each result, then succeed."""
        self.failing = lambda score, nth: nth <= count

    def applied_submissions(self) -> set[int]:
        with self.lock:
            return {submission_id for (_, submission_id), scores in self.applied.items() if scores}


class Queue:
    """Drive the queue through its Python API, as the views do: submit, pull, reply."""

    def __init__(self, lms: FaultyLms, queue_name: str = "test-pull"):
        self.lms, self.queue_name = lms, queue_name

    def submit(self, *, key: str | None = None, user_id: int | None = None, block: str | None = None,
               anonymous_id: str | None = None, points_possible: int | None = None):
        n = next(_numbers)
        key = key or f"lms-key-{n:06d}-{'x' * 8}"
        url = self.lms.callback_url(user_id=user_id or n, block=block or f"p{n}")
        header = make_header(url, key, self.queue_name)
        body = make_body(f"answer {n}", anonymous_id or f"anon-{n}", grader_payload='{"grader": "g.py"}')
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


def run_loop(bridge_url: str, lms_server: FaultyLms, count: int) -> list[str]:
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
