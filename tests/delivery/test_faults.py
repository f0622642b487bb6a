"""
Faults of the receiving end, with real parts: the bridge on a real HTTP server (delivery thread pool and
drainer, as ``xqueue-bridge serve`` runs it), graders and the LMS's submit client over HTTP, and an LMS
callback server that is down, answers 500, redirects, hangs or loses its answers for a while and then
recovers. Every result must reach the learner exactly once when it does.
"""

from __future__ import annotations

import json
import threading

import pytest

from tests.support.grading import REPLY, run_loop
from tests.support.lms import OK, FakeLms, Fault
from tests.support.waiting import wait_for
from xqueue_bridge.models import Delivery

pytestmark = pytest.mark.slow  # each fault is waited out in real time
RESULTS = 8


def all_attempted(times: int) -> bool:
    return not Delivery.objects.filter(attempts__lt=times).exists()


def all_delivered() -> bool:
    return not Delivery.objects.exclude(status=Delivery.Status.DELIVERED).exists()


def assert_each_applied_once(lms_server: FakeLms, keys: list[str]) -> None:
    assert lms_server.applied_keys() == set(keys)
    assert lms_server.doubly_applied() == {}
    assert {body for bodies in lms_server.updates.values() for body in bodies} == {json.dumps(REPLY)}
    assert set(Delivery.objects.values_list("kind", flat=True)) == {"result"}  # no failure notice


FAULTS = {
    "answers 500": Fault("status", status=500),
    "answers 503": Fault("status", status=503),
    "hangs past the read timeout": Fault("hang", seconds=5),
}


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_an_lms_failing_for_a_while_gets_every_result_once_it_recovers(serving, lms_server, fault):
    lms_server.fault_for = lambda key: fault
    keys = run_loop(serving, lms_server, RESULTS)  # every grader was told success
    assert wait_for(lambda: all_attempted(2)), "each result should have been tried at least twice"
    assert lms_server.applied_keys() == set()

    lms_server.fault_for = lambda key: OK
    assert wait_for(all_delivered)
    assert_each_applied_once(lms_server, keys)
    assert not Delivery.objects.filter(attempts__lt=2).exists()


def test_an_lms_that_is_down_gets_every_result_once_it_is_back(serving, lms_server):
    lms_server.stop()
    keys = run_loop(serving, lms_server, RESULTS)
    assert wait_for(lambda: all_attempted(2))
    assert set(Delivery.objects.values_list("last_error", flat=True)) == {"connection error: ConnectionError"}

    lms_server.start()
    assert wait_for(all_delivered)
    assert_each_applied_once(lms_server, keys)


def test_a_redirect_is_not_followed_and_the_result_is_delivered_to_the_lms_itself(serving, lms_server):
    elsewhere = FakeLms()
    try:
        lms_server.fault_for = lambda key: Fault("status", status=302, location=elsewhere.callback_url(block="x"))
        keys = run_loop(serving, lms_server, RESULTS)
        assert wait_for(lambda: all_attempted(2))
        assert set(Delivery.objects.values_list("last_error", flat=True)) == {"LMS answered HTTP 302"}

        lms_server.fault_for = lambda key: OK
        assert wait_for(all_delivered)
        assert elsewhere.calls == []
        assert_each_applied_once(lms_server, keys)
    finally:
        elsewhere.close()


def test_a_lost_acknowledgement_is_redelivered_and_the_lms_applies_the_result_once(serving, lms_server):
    first_seen = set()
    lock = threading.Lock()

    def lose_the_first_answer(key):
        with lock:
            if key in first_seen:
                return OK
            first_seen.add(key)
            return Fault("lost")

    lms_server.fault_for = lose_the_first_answer
    keys = run_loop(serving, lms_server, RESULTS)
    assert wait_for(all_delivered)

    per_key = lms_server.callbacks_per_key()
    assert all(per_key[key] >= 2 for key in keys)  # at-least-once transport: the LMS heard it again...
    assert_each_applied_once(lms_server, keys)  # ...and, keyed on the queue key, applied it once


def test_an_event_receiver_failing_for_a_while_gets_every_score_once_it_recovers(
    serving, lms_server, receiver, stage
):
    stage("event")
    receiver.failing = lambda score, nth: True
    keys = run_loop(serving, lms_server, RESULTS)
    assert wait_for(lambda: all_attempted(2))
    assert receiver.applied_submissions() == set()

    receiver.failing = lambda score, nth: False
    assert wait_for(all_delivered)
    assert {key for key, _ in receiver.applied} == set(keys)
    assert all(len(scores) == 1 for scores in receiver.applied.values())
    assert lms_server.calls == []
