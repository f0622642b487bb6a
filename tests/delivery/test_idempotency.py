"""
One learner update per result, on the transport side: a repeated reply delivers nothing new, a reply under
a stale pullkey is refused, two copies of a reply racing each other make one delivery, and pullkeys are
random and compared in constant time.
"""

from __future__ import annotations

import hmac
import json
import threading

import pytest
from django.db import connection

from tests.support.config import bridge_settings
from tests.support.grading import REPLY
from xqueue_bridge.errors import AlreadyAnswered, IncorrectKey, UnknownSubmission
from xqueue_bridge.intake import queue_api
from xqueue_bridge.models import Delivery
from xqueue_bridge.outbox import runners


def test_a_repeated_reply_on_the_event_path_is_a_success_that_sends_no_second_event(queue, receiver, stage):
    stage("event")
    submission = queue.submit()
    served = queue.pull()
    first = queue.reply(served, REPLY)
    again = queue.reply(served, REPLY)  # the grader's retry after its request timed out
    assert first.accepted and not first.duplicate
    assert again.accepted and again.duplicate
    assert Delivery.objects.count() == 1
    assert len(receiver.calls) == 1
    assert receiver.applied_submissions() == {submission.pk}


def test_a_repeated_reply_while_the_lms_is_down_still_makes_one_delivery(queue, lms_server):
    lms_server.stop()
    with bridge_settings(DELIVERY_MODE="sync"):
        submission = queue.submit()
        served = queue.pull()
        assert queue.reply(served, REPLY).accepted
        assert queue.reply(served, REPLY).duplicate
    lms_server.start()
    Delivery.objects.update(next_attempt_at=Delivery.objects.get().created_at)  # its retry is due now
    assert runners.drain() == 1
    assert Delivery.objects.count() == 1
    assert lms_server.updates[submission.lms_key] == [json.dumps(REPLY)]


def test_a_second_different_reply_is_refused_and_changes_nothing(queue, lms_server):
    submission = queue.submit()
    served = queue.pull()
    queue.reply(served, REPLY)
    with pytest.raises(AlreadyAnswered, match="already has an accepted result"):
        queue.reply(served, {**REPLY, "score": 0.0})
    assert Delivery.objects.count() == 1
    assert lms_server.updates[submission.lms_key] == [json.dumps(REPLY)]


def test_a_reply_under_a_stale_pullkey_is_refused_after_the_submission_is_served_again(
    queue, receiver, stage
):
    stage("event")
    submission = queue.submit()
    with bridge_settings(PULL_TIMEOUT=0):
        slow_grader = queue.pull()
        stale_key = slow_grader.pullkey
        second_grader = queue.pull()  # no reply within the timeout: served again under a new key
    assert second_grader.pk == submission.pk and second_grader.pullkey != stale_key
    with pytest.raises(IncorrectKey, match="^Incorrect key for submission$"):
        queue.reply(submission, REPLY, key=stale_key)
    assert queue.reply(second_grader, REPLY).accepted
    with pytest.raises(IncorrectKey):
        queue.reply(submission, REPLY, key=stale_key)  # still refused once the result is in
    assert len(receiver.calls) == 1


@pytest.mark.parametrize("tamper", [
    lambda key: key[:-1] + ("0" if key[-1] != "0" else "1"),
    lambda key: key.upper(),
    lambda key: key[:-1],
    lambda key: key + "0",
    lambda key: " " + key,
], ids=["last character changed", "upper case", "one shorter", "one longer", "leading space"])
def test_a_reply_with_any_other_key_is_refused(queue, lms_server, tamper):
    queue.submit()
    served = queue.pull()
    with pytest.raises(IncorrectKey):
        queue.reply(served, REPLY, key=tamper(served.pullkey))
    assert Delivery.objects.count() == 0 and lms_server.calls == []


def test_a_reply_for_an_unknown_submission_is_refused(queue):
    queue.submit()
    served = queue.pull()
    served.pk += 1000
    with pytest.raises(UnknownSubmission):
        queue.reply(served, REPLY)


def test_pullkeys_are_random_and_compared_in_constant_time(queue, monkeypatch):
    for _ in range(3):
        queue.submit()
    with bridge_settings(PULL_TIMEOUT=0):
        keys = [queue.pull().pullkey for _ in range(12)]
    assert len(set(keys)) == 12
    assert all(len(key) == 32 and int(key, 16) >= 0 for key in keys)  # 128 bits from the secrets module

    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(queue_api.hmac, "compare_digest", spy)
    served = queue.pull()
    with pytest.raises(IncorrectKey):
        queue.reply(served, REPLY, key="f" * 32)
    assert compared and compared[-1][1] == served.pullkey.encode()


def test_two_copies_of_a_reply_racing_each_other_make_one_delivery(queue, lms_server):
    served = [None] * 10
    for n in range(10):
        queue.submit()
        served[n] = queue.pull()
    outcomes, errors = [], []
    barrier = threading.Barrier(2)

    def send(submission):
        try:
            barrier.wait(timeout=10)
            outcomes.append(queue.reply(submission, REPLY))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    for submission in served:
        racers = [threading.Thread(target=send, args=(submission,)) for _ in range(2)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(timeout=60)

    assert errors == []
    assert len(outcomes) == 20 and all(outcome.accepted for outcome in outcomes)
    assert sorted(outcome.duplicate for outcome in outcomes) == [False] * 10 + [True] * 10
    assert Delivery.objects.count() == 10
    assert set(lms_server.callbacks_per_key().values()) == {1}
