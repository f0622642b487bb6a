"""
Four graders pulling from one queue at once, over HTTP, each on its own session and database connection:
no submission is served to two graders within the processing timeout, every submission is served, and
each result reaches the LMS once.
"""

from __future__ import annotations

import json
import threading

import pytest

from tests.support.accounts import GRADER_PASSWORD, GRADER_USER
from tests.support.config import bridge_settings
from tests.support.grading import REPLY
from tests.support.waiting import wait_for
from xqueue_bridge.models import Delivery, Submission
from xqueue_bridge.runtime.clients import GraderClient

SUBMISSIONS = 120
GRADERS = 4


@pytest.mark.slow
def test_four_graders_pulling_at_once_never_get_the_same_submission(bridge_url, queue, lms_server):
    submitted = {queue.submit().pk for _ in range(SUBMISSIONS)}
    served: dict[int, list[int]] = {n: [] for n in range(GRADERS)}
    failures: list[str] = []
    start = threading.Barrier(GRADERS)

    def grade(n: int) -> None:
        grader = GraderClient(bridge_url, GRADER_USER, GRADER_PASSWORD)
        if not grader.login():
            failures.append(f"grader {n} could not log in")
            return
        start.wait(timeout=30)
        for _ in range(SUBMISSIONS + 1):  # bounded: never more pulls than there are submissions
            item = grader.get_submission("test-pull")
            if item is None:
                return
            served[n].append(json.loads(item["xqueue_header"])["submission_id"])
            ok, content = grader.put_result(item["xqueue_header"], json.dumps(REPLY))
            if not ok:
                failures.append(f"grader {n}: put_result refused: {content}")

    with bridge_settings(PULL_TIMEOUT=300):
        threads = [threading.Thread(target=grade, args=(n,)) for n in range(GRADERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)

    everything = [pk for pulls in served.values() for pk in pulls]
    assert failures == []
    assert len(everything) == len(set(everything)) == SUBMISSIONS  # nobody got a submission twice
    assert set(everything) == submitted
    assert sum(1 for pulls in served.values() if pulls) > 1  # the graders did share the queue
    assert set(Submission.objects.values_list("status", "pull_count")) == {("graded", 1)}
    assert wait_for(lambda: not Delivery.objects.exclude(status="delivered").exists())
    assert lms_server.doubly_applied() == {}
    assert set(lms_server.callbacks_per_key().values()) == {1}
    assert len(lms_server.applied_keys()) == SUBMISSIONS
