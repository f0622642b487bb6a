"""
Shadow mode stays off the request path and out of harm's way: a failing candidate or comparator is
recorded as errored and never reaches the grader or the learner; comparisons run after the authoritative
delivery, in the delivery's thread, the pool, or the worker; whatever a dead process left pending, the
worker decides.
"""

from __future__ import annotations

import io
import math
import threading
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.support.config import bridge_settings
from tests.support.grading import reply
from tests.support.rows import make_comparison, make_submission, only_comparison
from xqueue_bridge.models import Delivery
from xqueue_bridge.shadow import experiment, observe
from xqueue_bridge.shadow.models import Comparison
from xqueue_bridge.sink import learners

pytestmark = pytest.mark.django_db(transaction=True)


def learner_state(grading):
    submission = grading.submission
    return learners.problem_state(submission.usage_key, course_id=submission.course_id, user_id=submission.user_id)


def test_failing_candidate_is_recorded_as_errored_and_the_learner_still_gets_the_result(grade, monkeypatch, stage):
    def broken(*args, **kwargs):
        raise RuntimeError("candidate blew up")

    monkeypatch.setattr(observe, "observe_event", broken)
    stage("shadow_callback")
    grading, answer = grade(reply(score=1.0))

    assert answer == (True, "")
    assert learner_state(grading).correctness == "correct"
    comparison = only_comparison(grading.submission)
    assert comparison.status == "errored"
    assert comparison.error == "RuntimeError: candidate blew up"
    assert Delivery.objects.get().status == "delivered"


def test_failing_comparator_in_shadow_event_never_reaches_the_grader(grade, monkeypatch, captured_events, stage):
    from xqueue_bridge.shadow import compare

    def broken(*args, **kwargs):
        raise ValueError("comparator blew up")

    monkeypatch.setattr(compare, "canonical_html", broken)
    stage("shadow_event")
    grading, answer = grade(reply(score=1.0))
    refused, refusal = grade("not json")

    assert answer == (True, "")
    assert refusal[0] is False and "not JSON" in refusal[1]  # the event path's own answer, nothing else
    assert len(captured_events) == 1
    assert learner_state(grading).correctness == "correct"
    assert [c.status for c in Comparison.objects.order_by("id")] == ["errored", "errored"]


def test_comparison_that_cannot_be_written_changes_nothing_else(grade, monkeypatch, stage):
    def broken(self, *args, **kwargs):
        raise RuntimeError("no room for comparisons")

    monkeypatch.setattr(Comparison, "save", broken)
    stage("shadow_event")
    with bridge_settings(MAX_GRADING_ATTEMPTS=1):
        grading, answer = grade(reply(score=1.0))
        refused, refusal = grade("not json")  # its pending comparison is written in the reply's transaction

    assert answer == (True, "")
    assert learner_state(grading).correctness == "correct"
    assert refusal[0] is False and "given up" in refusal[1]
    refused.submission.refresh_from_db()
    assert refused.submission.status == "failed"  # the refusal itself was committed
    assert "could not be graded" in learner_state(refused).msg
    assert Comparison.objects.count() == 0


def test_unknown_clean_rule_is_an_errored_comparison_that_names_the_setting(grade, stage):
    stage("shadow_callback")
    with bridge_settings(shadow={"CLEAN_RULES": ["no_such_rule"]}):
        grading, answer = grade(reply(score=1.0))

    assert answer == (True, "")
    comparison = only_comparison(grading.submission)
    assert comparison.status == "errored"
    assert "CLEAN_RULES" in comparison.error and "'no_such_rule'" in comparison.error


def test_thread_mode_compares_in_a_thread_of_its_own_after_the_delivery(grade, monkeypatch, stage):
    threads = []
    for name in ("compare_result", "run"):
        original = getattr(experiment, name)

        def recorded(*args, _original=original, **kwargs):
            threads.append(threading.current_thread().name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(experiment, name, recorded)
    stage("shadow_event")
    # No bound on the lag (docs/decisions/0013): on a busy machine a shed comparison would not be compared.
    with bridge_settings(DELIVERY_MODE="thread", shadow={"MAX_LAG": None}):
        grading, answer = grade(reply(score=0.5))
        refused, refusal = grade("not json")
        assert answer == (True, "") and refusal[0] is False
        deadline = time.monotonic() + 30
        while (Delivery.objects.filter(status="pending").exists() or not experiment.settled()) and (
            time.monotonic() < deadline
        ):  # delivered in the delivery pool, then compared in the shadow thread
            time.sleep(0.02)

    assert only_comparison(grading.submission).status == "mismatched"
    assert only_comparison(refused.submission).status == "mismatched"
    assert len(threads) == 2 and all(name.startswith("xqb-shadow") for name in threads)
    assert learner_state(grading).npoints == 0.5


def test_worker_mode_leaves_delivery_and_comparison_to_the_worker(grade, stage):
    stage("shadow_event")
    with bridge_settings(DELIVERY_MODE="worker"):
        grading, answer = grade(reply(score=1.0))
        refused, refusal = grade("not json")
        assert answer == (True, "") and refusal[0] is False
        # Nothing delivered, nothing compared yet: only the refused reply waits, as a pending comparison.
        assert list(Comparison.objects.values_list("trigger", "status")) == [("refusal", "pending")]
        assert learner_state(grading).queuekey is not None
        assert not experiment.settled()

        out = io.StringIO()
        call_command("worker", "--once", stdout=out)

    # The delivery (whose comparison is made in the same attempt) and the refused reply's comparison.
    assert out.getvalue() == "2 items processed\n"
    assert learner_state(grading).correctness == "correct"
    statuses = dict(Comparison.objects.values_list("trigger", "status"))
    assert statuses == {"result": "matched", "refusal": "mismatched"}
    assert experiment.settled()


def test_worker_decides_what_a_dead_process_left_pending(db):
    submission = make_submission(stage="shadow_event", status="queued", grading_failures=1)
    left = make_comparison(submission=submission, stage="shadow_event", status="pending", hours_ago=0.1,
                           trigger="refusal", reply=reply(score=-1), context={"attempt": 1, "given_up": False})

    assert experiment.drain() == 1

    left.refresh_from_db()
    assert (left.status, left.categories, left.reply) == ("mismatched", ["error: negative_score"], "")
    assert left.diff["error"] == {"control": "unscorable_reply", "candidate": None}


def test_a_final_delivery_nobody_compared_is_not_settled(db):
    submission = make_submission(stage="shadow_callback")
    delivery = Delivery.objects.create(
        submission=submission, path="callback", body=reply(score=0.5), status=Delivery.Status.DELIVERED,
        duration=7.0, finished_at=timezone.now(),  # a recorded delivery time no dry run comes near
    )
    assert not experiment.settled()

    assert experiment.compare_result(delivery) == ["mismatched"]
    assert experiment.compare_result(delivery) == []  # compared once, even if it finishes again (replay)
    comparison = Comparison.objects.get()
    # The real delivery's recorded 7 s are part of the control's duration, with the dry run's own fraction.
    assert math.floor(comparison.control_duration) == 7
    assert experiment.settled()


def test_a_decided_comparison_is_not_decided_twice(grade, stage):
    stage("shadow_callback")
    grading, _ = grade(reply(score=0.5))
    comparison = only_comparison(grading.submission)

    assert experiment.run(comparison.pk) is None
    assert experiment.run_all([comparison.pk, 10_000_000]) == 0
    comparison.refresh_from_db()
    assert comparison.status == "mismatched"
