"""
Shadow mode stays off the request path and out of harm's way: a failing candidate or comparator is
recorded as errored and never reaches the grader or the learner; comparisons run after the authoritative
delivery, in the delivery's thread, the pool, or the worker; whatever a dead process left pending, the
worker decides.
"""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command

from tests.conftest import set_stage
from tests.shadow.conftest import bridge_settings, make_comparison, make_submission, only_comparison, reply
from xqueue_bridge.models import Delivery
from xqueue_bridge.shadow import experiment, observe
from xqueue_bridge.shadow.models import Comparison
from xqueue_bridge.sink import api as sink

pytestmark = pytest.mark.django_db(transaction=True)


def learner_state(grading):
    submission = grading.submission
    return sink.problem_state(submission.usage_key, course_id=submission.course_id, user_id=submission.user_id)


def test_failing_candidate_is_recorded_as_errored_and_the_learner_still_gets_the_result(grade, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("candidate blew up")

    monkeypatch.setattr(observe, "observe_event", broken)
    set_stage("shadow_callback")
    grading, answer = grade(reply(score=1.0))

    assert answer == (True, "")
    assert learner_state(grading).correctness == "correct"
    comparison = only_comparison(grading.submission)
    assert comparison.status == "errored"
    assert comparison.error == "RuntimeError: candidate blew up"
    assert Delivery.objects.get().status == "delivered"


def test_failing_comparator_in_shadow_event_never_reaches_the_grader(grade, monkeypatch, captured_events):
    from xqueue_bridge.shadow import compare

    def broken(*args, **kwargs):
        raise ValueError("comparator blew up")

    monkeypatch.setattr(compare, "canonical_html", broken)
    set_stage("shadow_event")
    grading, answer = grade(reply(score=1.0))
    refused, refusal = grade("not json")

    assert answer == (True, "")
    assert refusal[0] is False and "not JSON" in refusal[1]  # the event path's own answer, nothing else
    assert len(captured_events) == 1
    assert learner_state(grading).correctness == "correct"
    assert [c.status for c in Comparison.objects.order_by("id")] == ["errored", "errored"]


def test_unplannable_comparison_leaves_the_reply_accepted(grade, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("no room for comparisons")

    monkeypatch.setattr(Comparison.objects, "create", broken)
    set_stage("shadow_callback")
    grading, answer = grade(reply(score=1.0))

    assert answer == (True, "")
    assert learner_state(grading).correctness == "correct"
    assert Comparison.objects.count() == 0


def test_unknown_clean_rule_is_an_errored_comparison_that_names_the_setting(grade):
    set_stage("shadow_callback")
    with bridge_settings(shadow={"CLEAN_RULES": ["no_such_rule"]}):
        grading, answer = grade(reply(score=1.0))

    assert answer == (True, "")
    comparison = only_comparison(grading.submission)
    assert comparison.status == "errored"
    assert "CLEAN_RULES" in comparison.error and "'no_such_rule'" in comparison.error


def test_thread_mode_compares_in_the_pool_after_the_delivery(grade):
    set_stage("shadow_callback")
    with bridge_settings(DELIVERY_MODE="thread"):
        grading, answer = grade(reply(score=0.5))
        assert answer == (True, "")
        deadline = time.monotonic() + 30
        while Comparison.objects.filter(status="pending").exists() and time.monotonic() < deadline:
            time.sleep(0.02)

    comparison = only_comparison(grading.submission)
    assert comparison.status == "mismatched"
    assert comparison.delivery.status == "delivered"
    assert learner_state(grading).npoints == 0.5


def test_worker_mode_leaves_delivery_and_comparison_to_the_worker(grade):
    set_stage("shadow_event")
    with bridge_settings(DELIVERY_MODE="worker"):
        grading, answer = grade(reply(score=1.0))
        refused, refusal = grade("not json")
        assert answer == (True, "") and refusal[0] is False
        assert set(Comparison.objects.values_list("status", flat=True)) == {"pending"}
        assert learner_state(grading).queuekey is not None  # nothing delivered yet

        out = io.StringIO()
        call_command("worker", "--once", stdout=out)

    # The delivery (whose comparison is decided in the same attempt) and the refused reply's comparison.
    assert out.getvalue() == "2 items processed\n"
    assert learner_state(grading).correctness == "correct"
    statuses = dict(Comparison.objects.values_list("trigger", "status"))
    assert statuses == {"result": "matched", "refusal": "mismatched"}


def test_worker_decides_what_a_dead_process_left_pending(db):
    submission = make_submission(stage="shadow_callback")
    delivery = Delivery.objects.create(
        submission=submission, path="callback", body=reply(score=0.5), status=Delivery.Status.DELIVERED,
        duration=0.004,
    )
    left = make_comparison(submission=submission, delivery=delivery, status="pending", hours_ago=0.1)
    retrying = make_submission(stage="shadow_callback")
    waiting = make_comparison(
        submission=retrying, status="pending", hours_ago=0.1,
        delivery=Delivery.objects.create(submission=retrying, path="callback", body=reply()),
    )

    assert experiment.drain() == 1

    left.refresh_from_db()
    waiting.refresh_from_db()
    assert left.status == "mismatched" and left.categories == ["points_earned: rounding"]
    assert left.control_duration >= 0.004  # the real delivery's time is part of the control's
    assert waiting.status == "pending"  # its delivery is not final yet


def test_a_decided_comparison_is_not_decided_twice(grade):
    set_stage("shadow_callback")
    grading, _ = grade(reply(score=0.5))
    comparison = only_comparison(grading.submission)

    assert experiment.run(comparison.pk) is None
    assert experiment.run_all([comparison.pk, 10_000_000]) == 0
    comparison.refresh_from_db()
    assert comparison.status == "mismatched"
