"""
The durable outbox: a reply and its delivery commit together, delivery starts after commit, failures are
retried with backoff up to the policy's limits, a given-up delivery is dead with its reason and the learner
is told, and a lease held by a process that died is taken over.
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.support.config import FAST_RETRY, bridge_settings
from tests.support.grading import REPLY
from tests.support.lms import Fault, FaultPlan
from xqueue_bridge import signals
from xqueue_bridge.models import Delivery, Submission
from xqueue_bridge.outbox import attempts, runners

HTTP_500 = Fault("status", status=500)


def drain_until_settled(max_passes: int = 400) -> int:
    """Run the worker's drain pass until nothing is pending (bounded); returns the passes it took."""
    for passes in range(1, max_passes + 1):
        runners.drain()
        pending = Delivery.objects.filter(status=Delivery.Status.PENDING).order_by("next_attempt_at").first()
        if pending is None:
            return passes
        wait = (pending.next_attempt_at - timezone.now()).total_seconds()
        threading.Event().wait(min(max(wait, 0.005), 0.5))  # until the next retry is due
    raise AssertionError(f"deliveries still pending after {max_passes} passes: {list(Delivery.objects.values())}")


def test_the_callback_is_sent_only_after_the_reply_and_its_delivery_are_committed(queue, lms_server):
    seen_from_the_lms = {}

    def look_from_another_connection(call):
        # Runs in the LMS's thread, on its own database connection: it sees only committed rows.
        submission = Submission.objects.get(lms_key=call["key"])
        seen_from_the_lms.update(
            status=submission.status, reply=submission.grader_reply,
            deliveries=list(Delivery.objects.filter(submission=submission).values_list("status", flat=True)),
        )
        connection.close()

    lms_server.on_call = look_from_another_connection
    submission = queue.submit()
    outcome = queue.reply(queue.pull(), REPLY)

    assert outcome.accepted and not outcome.duplicate
    assert seen_from_the_lms == {"status": "graded", "reply": json.dumps(REPLY), "deliveries": ["pending"]}
    assert lms_server.updates[submission.lms_key] == [json.dumps(REPLY)]
    assert Delivery.objects.get().status == "delivered"


def test_a_reply_whose_transaction_rolls_back_records_nothing_and_delivers_nothing(queue, lms_server):
    def fail_inside_the_transaction(**kwargs):
        raise RuntimeError("database went away")

    submission = queue.submit()
    served = queue.pull()
    signals.reply_accepted.connect(fail_inside_the_transaction, dispatch_uid="test-rollback")
    try:
        with pytest.raises(RuntimeError):
            queue.reply(served, REPLY)
    finally:
        signals.reply_accepted.disconnect(dispatch_uid="test-rollback")

    submission.refresh_from_db()
    assert (submission.status, submission.grader_reply, submission.pullkey) == ("pulled", "", served.pullkey)
    assert not Delivery.objects.exists()
    assert lms_server.calls == []
    assert queue.reply(served, REPLY).accepted  # the same reply, sent again, is taken and delivered once
    assert lms_server.updates[submission.lms_key] == [json.dumps(REPLY)]


def test_in_worker_mode_nothing_is_sent_until_a_drainer_runs(queue, lms_server):
    with bridge_settings(DELIVERY_MODE="worker"):
        submission = queue.grade(1)[0]
        assert lms_server.calls == []
        assert Delivery.objects.get().status == "pending"
        assert runners.drain() == 1
    assert lms_server.updates[submission.lms_key] == [json.dumps(REPLY)]


def test_thread_mode_delivers_from_the_pool_after_commit(queue, lms_server):
    with bridge_settings(DELIVERY_MODE="thread"):
        submissions = queue.grade(5)
        runners.wait_for_threads()
    assert lms_server.applied_keys() == {s.lms_key for s in submissions}
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_a_failed_callback_waits_for_its_backoff_then_is_retried_until_delivered(queue, lms_server):
    lms_server.fault_for = FaultPlan(failures=3, fault=HTTP_500)
    with bridge_settings(DELIVERY_RETRY=FAST_RETRY):
        submission = queue.grade(1)[0]
        first = Delivery.objects.get()
        assert (first.status, first.attempts, first.last_error) == ("pending", 1, "LMS answered HTTP 500")
        drain_until_settled()

    delivered = Delivery.objects.get()
    assert (delivered.status, delivered.attempts, delivered.last_error) == ("delivered", 4, "")
    assert len(lms_server.calls) == 4
    assert lms_server.updates[submission.lms_key] == [json.dumps(REPLY)]


def test_each_failure_puts_the_next_attempt_off_by_the_policy_s_doubling_backoff(queue, lms_server):
    lms_server.fault_for = FaultPlan(failures=3, fault=HTTP_500)
    policy = {"max_attempts": None, "max_age": 3600, "backoff_factor": 30, "backoff_max": 100, "jitter": 0}
    with bridge_settings(DELIVERY_RETRY=policy):
        before = timezone.now()
        queue.grade(1)
        after = timezone.now()
        delivery = Delivery.objects.get()
        assert delivery.attempts == 1
        assert before + timedelta(seconds=30) <= delivery.next_attempt_at <= after + timedelta(seconds=30)
        assert attempts.due_ids(10) == [] and runners.drain() == 0  # not due before its backoff has passed
        for count, wait in ((2, 60), (3, 100)):  # doubled, then capped at backoff_max
            Delivery.objects.update(next_attempt_at=timezone.now())
            before = timezone.now()
            assert runners.drain() == 1
            after = timezone.now()
            delivery.refresh_from_db()
            assert (delivery.status, delivery.attempts) == ("pending", count)
            assert before + timedelta(seconds=wait) <= delivery.next_attempt_at <= after + timedelta(seconds=wait)
            assert attempts.due_ids(10) == []
    assert len(lms_server.calls) == 3


def test_an_undue_delivery_is_left_alone_by_the_drainer(queue, lms_server):
    with bridge_settings(DELIVERY_MODE="worker"):
        queue.grade(1)
    Delivery.objects.update(next_attempt_at=timezone.now() + timedelta(hours=1))
    assert attempts.due_ids(10) == []
    assert runners.drain() == 0
    assert lms_server.calls == [] and Delivery.objects.get().attempts == 0


def test_after_max_attempts_the_delivery_is_dead_with_its_reason_and_the_learner_is_told(queue, lms_server):
    lms_server.fault_for = FaultPlan(failures=3, fault=HTTP_500)  # the LMS is back in time for the notice
    with bridge_settings(DELIVERY_RETRY={**FAST_RETRY, "max_attempts": 3}):
        submission = queue.grade(1)[0]
        drain_until_settled()

    result = Delivery.objects.get(kind="result")
    assert (result.status, result.attempts, result.last_error) == ("dead", 3, "LMS answered HTTP 500")
    assert result.finished_at is not None
    notice = Delivery.objects.get(kind="failure_notice")
    assert (notice.status, notice.path) == ("delivered", "callback")
    [applied] = lms_server.updates[submission.lms_key]
    shown = json.loads(applied)
    assert shown["correct"] is None and shown["score"] == 0
    assert shown["msg"].startswith('<div class="capa_alert">') and "could not be graded" in shown["msg"]
    # The notice goes where the result would have gone, with the LMS's own header.
    assert lms_server.calls[-1]["form"]["xqueue_header"] == submission.xqueue_header


def test_without_notify_learner_on_failure_a_dead_delivery_sends_nothing_more(queue, lms_server):
    lms_server.fault_for = FaultPlan(failures=100, fault=HTTP_500)
    with bridge_settings(DELIVERY_RETRY={**FAST_RETRY, "max_attempts": 2}, NOTIFY_LEARNER_ON_FAILURE=False):
        queue.grade(1)
        drain_until_settled()
    assert list(Delivery.objects.values_list("kind", "status")) == [("result", "dead")]
    assert len(lms_server.calls) == 2 and lms_server.updates == {}


def test_a_delivery_older_than_max_age_is_given_up_at_its_next_failure(queue, lms_server):
    lms_server.fault_for = FaultPlan(failures=100, fault=HTTP_500)
    with bridge_settings(DELIVERY_MODE="worker", DELIVERY_RETRY={**FAST_RETRY, "max_age": 60},
                         NOTIFY_LEARNER_ON_FAILURE=False):
        queue.grade(1)
        two_minutes_ago = timezone.now() - timedelta(minutes=2)
        Delivery.objects.update(created_at=two_minutes_ago, budget_started_at=two_minutes_ago)
        runners.drain()
    dead = Delivery.objects.get()
    assert (dead.status, dead.attempts) == ("dead", 1)


def test_a_failure_notice_that_cannot_be_delivered_is_dead_and_not_noticed_again(queue, lms_server):
    lms_server.fault_for = FaultPlan(failures=100, fault=HTTP_500)
    with bridge_settings(DELIVERY_RETRY={**FAST_RETRY, "max_attempts": 2}):
        queue.grade(1)
        drain_until_settled()
    assert sorted(Delivery.objects.values_list("kind", "status")) == [("failure_notice", "dead"), ("result", "dead")]
    assert len(lms_server.calls) == 4 and lms_server.updates == {}


def test_a_callback_url_no_longer_allowed_is_dead_at_once_without_a_request(queue, lms_server):
    with bridge_settings(DELIVERY_MODE="worker"):
        queue.grade(1)
    with bridge_settings(ALLOWED_CALLBACK_ORIGINS=["http://127.0.0.2:*"], NOTIFY_LEARNER_ON_FAILURE=False):
        runners.drain()
    dead = Delivery.objects.get()
    assert dead.status == "dead" and dead.attempts == 1
    assert "not an allowed LMS origin" in dead.last_error
    assert lms_server.calls == []


def test_an_event_receiver_that_raises_is_retried_then_the_score_is_applied_once(
    queue, lms_server, receiver, stage
):
    stage("event")
    receiver.fail_first(2)
    with bridge_settings(DELIVERY_RETRY=FAST_RETRY):
        submission = queue.submit(points_possible=4)
        queue.reply(queue.pull(), {"correct": False, "score": 0.5, "msg": "<p>2 of 4</p>"})
        first = Delivery.objects.get()
        assert first.status == "pending"
        assert first.last_error.startswith("receiver raised RuntimeError: receiver unavailable")
        drain_until_settled()

    delivered = Delivery.objects.get()
    assert (delivered.path, delivered.status, delivered.attempts) == ("event", "delivered", 3)
    assert len(receiver.calls) == 3
    [score] = receiver.applied[(submission.lms_key, submission.pk)]
    assert (score.points_earned, score.points_possible) == (2, 4)
    assert lms_server.calls == []


def test_a_dead_event_delivery_tells_the_learner_over_the_event_path(queue, receiver, stage):
    stage("event")
    receiver.fail_first(3)
    with bridge_settings(DELIVERY_RETRY={**FAST_RETRY, "max_attempts": 3}):
        submission = queue.submit(points_possible=5)
        queue.reply(queue.pull(), REPLY)
        drain_until_settled()

    assert Delivery.objects.get(kind="result").status == "dead"
    notice = Delivery.objects.get(kind="failure_notice")
    assert (notice.status, notice.path) == ("delivered", "event")
    [score] = receiver.applied[(submission.lms_key, submission.pk)]
    assert (score.points_earned, score.points_possible) == (0, 5)
    assert json.loads(score.score_msg)["correct"] is None


def test_a_lease_held_by_a_live_attempt_keeps_other_drainers_away(queue, lms_server):
    with bridge_settings(DELIVERY_MODE="worker"):
        queue.grade(1)
    delivery = Delivery.objects.get()
    assert attempts._claim(delivery.pk) is not None  # a process claims it...
    assert runners.drain() == 0  # ...and while its lease lasts, nobody else sends it
    assert attempts.attempt(delivery.pk) is None
    assert lms_server.calls == []


def test_a_delivery_claimed_by_a_process_that_died_is_claimed_again_after_the_lease(queue, lms_server):
    with bridge_settings(DELIVERY_MODE="worker"):
        submission = queue.grade(1)[0]
    delivery = Delivery.objects.get()
    dead_token = attempts._claim(delivery.pk)  # claimed, then the process died before sending
    Delivery.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))  # its lease runs out

    assert runners.drain() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert lms_server.updates[submission.lms_key] == [json.dumps(REPLY)]

    # The process that lost its lease cannot overwrite the outcome.
    from xqueue_bridge.data import DeliveryResult

    attempts._record(delivery, dead_token, DeliveryResult(ok=False, duration=0.1, error="late"))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == ("delivered", "")


def test_in_sync_and_thread_mode_a_delivery_is_written_claimed_and_attempted_once_under_that_lease(
    queue, lms_server, monkeypatch
):
    claims = []
    real_claim = attempts._claim
    monkeypatch.setattr(attempts, "_claim", lambda delivery_id: claims.append(delivery_id) or real_claim(delivery_id))
    seen_at_commit = {}

    def look_from_another_connection(call):
        delivery = Delivery.objects.get(submission__lms_key=call["key"])
        seen_at_commit.update(attempts=delivery.attempts, leased=bool(delivery.lease_token))
        connection.close()

    lms_server.on_call = look_from_another_connection
    for mode in ("sync", "thread"):
        with bridge_settings(DELIVERY_MODE=mode):
            submission = queue.grade(1)[0]
            runners.wait_for_threads()
        delivery = Delivery.objects.get(submission=submission)
        assert (delivery.status, delivery.attempts, delivery.lease_token) == ("delivered", 1, "")
        assert seen_at_commit == {"attempts": 1, "leased": True}  # committed claimed, before the send
        assert lms_server.updates[submission.lms_key] == [json.dumps(REPLY)]
    assert claims == []  # no separate claim was taken


def test_a_delivery_written_claimed_whose_process_died_is_claimed_again_after_the_lease(queue, lms_server):
    started = []

    def process_dies_before_the_attempt(sender=None, *, delivery_id, lease_token=None, **kwargs):
        started.append((delivery_id, lease_token))

    signals.delivery_enqueued.disconnect(dispatch_uid="xqueue_bridge.start_attempt")
    signals.delivery_enqueued.connect(process_dies_before_the_attempt, dispatch_uid="test-dies")
    try:
        with bridge_settings(DELIVERY_MODE="thread"):
            submission = queue.grade(1)[0]
    finally:
        signals.delivery_enqueued.disconnect(dispatch_uid="test-dies")
        signals.delivery_enqueued.connect(runners.start_attempt, dispatch_uid="xqueue_bridge.start_attempt")
    delivery = Delivery.objects.get()
    assert started == [(delivery.pk, delivery.lease_token)] and delivery.lease_token
    assert (delivery.status, delivery.attempts) == ("pending", 1)

    assert runners.drain() == 0  # while its lease lasts, the drainer leaves it alone
    assert lms_server.calls == []
    Delivery.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))  # the lease runs out
    assert runners.drain() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert lms_server.updates[submission.lms_key] == [json.dumps(REPLY)]


def test_a_runner_that_comes_to_a_claimed_delivery_after_its_lease_expired_leaves_it(queue, lms_server):
    with bridge_settings(DELIVERY_MODE="worker"):
        queue.grade(1)
    delivery = Delivery.objects.get()
    token = attempts._claim(delivery.pk)
    Delivery.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert attempts.attempt(delivery.pk, lease_token=token) is None  # expired: the drainer's to claim
    assert attempts.attempt(delivery.pk, lease_token="not-the-lease") is None
    assert lms_server.calls == []
    assert runners.drain() == 1
    assert Delivery.objects.get().status == "delivered"


def test_the_ends_that_took_a_result_are_kept_with_the_outcome_or_without_it_when_the_lease_was_lost(
    queue, lms_server
):
    from xqueue_bridge.data import DeliveryResult, EndOutcome
    from xqueue_bridge.models import DeliveryEnd

    with bridge_settings(DELIVERY_MODE="worker", DELIVERY_RETRY=FAST_RETRY):
        queue.grade(1)
        delivery = Delivery.objects.select_related("submission").get()
        lost = attempts._claim(delivery.pk)
        Delivery.objects.update(lease_token="someone-else")  # the lease passed to another attempt
        attempts._record(delivery, lost, DeliveryResult(
            ok=False, duration=0.1, error="bus down", ends=(EndOutcome("lms"), EndOutcome("bus", error="down"))))
        assert dict(DeliveryEnd.objects.values_list("end", "status")) == {"lms": "confirmed", "bus": "pending"}
        assert Delivery.objects.get().last_error == ""  # the outcome was not ours to record

        Delivery.objects.update(lease_token="", lease_expires_at=None)
        mine = attempts._claim(delivery.pk)
        delivery.refresh_from_db()
        attempts._record(delivery, mine, DeliveryResult(ok=True, duration=0.1, ends=(EndOutcome("bus"),)))
    assert dict(DeliveryEnd.objects.values_list("end", "status")) == {"lms": "confirmed", "bus": "confirmed"}
    assert dict(DeliveryEnd.objects.values_list("end", "attempts")) == {"lms": 1, "bus": 2}
    assert Delivery.objects.get().status == "delivered"


def test_an_end_is_written_with_its_first_attempt_and_a_confirmation_is_never_undone(queue):
    from django.test.utils import CaptureQueriesContext

    from xqueue_bridge.data import EndOutcome
    from xqueue_bridge.models import DeliveryEnd
    from xqueue_bridge.outbox.ends import record_ends

    with bridge_settings(DELIVERY_MODE="worker"):
        queue.grade(1)
    delivery = Delivery.objects.get()
    with CaptureQueriesContext(connection) as first:
        record_ends(delivery, (EndOutcome("lms"), EndOutcome("bus", error="down")), {"bus": "bus down"})
    writes = [q["sql"].split()[0] for q in first.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE")]
    assert writes == ["UPDATE", "INSERT", "UPDATE", "INSERT"]  # nothing to update yet: one row each
    rows = {end.end: (end.status, end.attempts, end.last_error, end.confirmed_at is not None)
            for end in DeliveryEnd.objects.all()}
    assert rows == {"lms": ("confirmed", 1, "", True), "bus": ("pending", 1, "bus down", False)}

    # A late attempt that failed at an end another attempt confirmed counts, and the confirmation stays.
    record_ends(delivery, (EndOutcome("lms", error="timeout"), EndOutcome("bus")), {"lms": "timeout"})
    rows = {end.end: (end.status, end.attempts, end.last_error) for end in DeliveryEnd.objects.all()}
    assert rows == {"lms": ("confirmed", 2, ""), "bus": ("confirmed", 2, "")}


def test_a_send_that_crashes_releases_its_lease_and_is_retried(queue, lms_server, monkeypatch):
    def crash(delivery):
        raise OSError("a bug in a transport")

    with bridge_settings(DELIVERY_MODE="worker", DELIVERY_RETRY=FAST_RETRY):
        submission = queue.grade(1)[0]
        monkeypatch.setattr(attempts, "transmit", crash)
        runners.drain()
        failed = Delivery.objects.get()
        assert (failed.status, failed.lease_token) == ("pending", "")
        assert failed.last_error == "OSError: a bug in a transport"
        monkeypatch.undo()
        drain_until_settled()
    assert lms_server.updates[submission.lms_key] == [json.dumps(REPLY)]


def test_concurrent_drainers_deliver_each_result_exactly_once(queue, lms_server):
    with bridge_settings(DELIVERY_MODE="worker"):
        submissions = queue.grade(60)
    errors = []

    def drainer():
        try:
            while runners.drain(limit=10):
                pass
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=drainer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    runners.drain()  # whatever a drainer skipped because another held it

    assert errors == []
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    per_key = lms_server.callbacks_per_key()
    assert set(per_key) == {s.lms_key for s in submissions}
    assert set(per_key.values()) == {1}  # no lease ran out, so not even the transport repeated itself
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


def test_a_result_still_waiting_when_the_learner_submits_again_is_withdrawn_not_delivered_late(queue, lms_server):
    lms_server.fault_for = FaultPlan(failures=1, fault=HTTP_500)  # the LMS misses each first attempt
    with bridge_settings(DELIVERY_RETRY=FAST_RETRY):
        older = queue.submit(user_id=41, block="late")
        queue.reply(queue.pull(), "not json: an invalid reply would un-queue the newer attempt")
        waiting = Delivery.objects.get(submission=older)
        assert (waiting.status, waiting.attempts) == ("pending", 1)

        newer = queue.submit(user_id=41, block="late")  # same learner and problem: same callback URL
        queue.reply(queue.pull(), REPLY)
        drain_until_settled()

    waiting.refresh_from_db()
    # At its next attempt the older result was withdrawn unsent; its transport error is kept.
    assert (waiting.status, waiting.attempts) == ("withdrawn", 1)
    assert waiting.last_error == (
        "withdrawn: the learner submitted again before it was delivered (last error: LMS answered HTTP 500)"
    )
    older.refresh_from_db()
    assert older.status == "graded" and older.grader_reply.startswith("not json")  # kept, not lost
    assert Delivery.objects.get(submission=newer).status == "delivered"
    assert lms_server.callbacks_per_key()[older.lms_key] == 1  # the failed attempt before the resubmit only
    assert lms_server.updates[newer.lms_key] == [json.dumps(REPLY)]
    assert older.lms_key not in lms_server.updates
