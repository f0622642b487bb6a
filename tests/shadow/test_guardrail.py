"""The opt-in guardrail: a course whose event path misbehaves goes back to shadow_callback, with the reason."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support.config import bridge_settings
from tests.support.grading import reply
from tests.support.lms import COURSE
from tests.support.rows import make_submission
from xqueue_bridge.models import Delivery
from xqueue_bridge.shadow import guardrail
from xqueue_bridge.shadow.models import GuardrailMove
from xqueue_bridge.stage import rollout

pytestmark = pytest.mark.django_db(transaction=True)

ON = {"ENABLED": True, "MIN_COMPARISONS": 2, "MAX_MISMATCH_RATE": 0.4, "MAX_ERROR_RATE": 0.4}


def test_mismatches_in_shadow_event_move_the_course_back_with_the_figures(grade, caplog, stage):
    stage("shadow_event", course=COURSE)
    caplog.set_level(logging.WARNING, logger="xqueue_bridge.shadow.guardrail")
    with bridge_settings(guardrail={**ON, "MIN_COMPARISONS": 3}):
        grade(reply(score=1.0))
        grade(reply(score=0.5))
        assert rollout.stage_of(COURSE).stage == "shadow_event"  # 2 results: too few to judge
        grade(reply(score=0.5))  # 2 of 3 mismatched: 66.7% > 40%

    decision = rollout.stage_of(COURSE)
    assert decision.stage == "shadow_callback"
    expected = "guardrail: mismatch rate 66.7% (2 of 3 comparisons in 24 h) is above 40.0%"
    assert decision.reason.startswith("course override by guardrail") and decision.reason.endswith(expected)
    move = GuardrailMove.objects.get()
    assert (move.course_id, move.from_stage, move.to_stage, move.results) == (
        COURSE, "shadow_event", "shadow_callback", 3
    )
    assert move.reason == expected
    assert any(expected in record.getMessage() for record in caplog.records)
    # The next learner's result is served by the callback again.
    grading, _ = grade(reply(score=1.0))
    assert grading.submission.stage == "shadow_callback"


def test_refusals_in_shadow_event_are_an_error_rate(grade, stage):
    stage("shadow_event", course=COURSE)
    # Judged by the error rate alone; each refused submission is given up at once (not pulled again).
    with bridge_settings(guardrail={**ON, "MAX_MISMATCH_RATE": 1.0}, MAX_GRADING_ATTEMPTS=1):
        grade("not json")
        grade(reply(score=-1))

    assert rollout.stage_of(COURSE).stage == "shadow_callback"
    assert "event path error rate 100.0% (2 of 2 results in 24 h)" in GuardrailMove.objects.get().reason


def test_accepted_differences_and_a_disabled_guardrail_move_nothing(grade, stage):
    stage("shadow_event", course=COURSE)
    with bridge_settings(guardrail=ON, shadow={"IGNORE_RULES": ["points_rounding"]}):
        grade(reply(score=0.5))
        grade(reply(score=0.5))
    with bridge_settings(guardrail={**ON, "ENABLED": False}):
        grade("not json")
        grade("not json")

    assert rollout.stage_of(COURSE).stage == "shadow_event"
    assert not GuardrailMove.objects.exists()


def test_too_few_results_move_nothing(grade, stage):
    stage("shadow_event", course=COURSE)
    with bridge_settings(guardrail={**ON, "MIN_COMPARISONS": 5}):
        for _ in range(4):
            grade(reply(score=0.5))

    assert rollout.stage_of(COURSE).stage == "shadow_event"


def test_event_course_with_undeliverable_results_is_moved_back_by_the_worker_check(stage):
    stage("event", course=COURSE)
    for status in ("dead", "dead", "delivered"):
        submission = make_submission(stage="event")
        Delivery.objects.create(submission=submission, path="event", body=reply(), status=status)
    make_submission(stage="event", grading_failures=1, status="queued")

    with bridge_settings(guardrail=ON):
        assert guardrail.periodic_check(force=True) == 1
        assert guardrail.periodic_check(force=True) == 0  # now in shadow_callback: nothing more to do

    assert rollout.stage_of(COURSE).stage == "shadow_callback"
    move = GuardrailMove.objects.get()
    assert move.from_stage == "event"
    assert move.reason == "guardrail: event path error rate 75.0% (3 of 4 results in 24 h) is above 40.0%"


def test_results_withdrawn_while_failing_count_as_errors_and_untried_ones_not_at_all():
    for status, attempts in (("withdrawn", 3), ("withdrawn", 0), ("delivered", 1), ("delivered", 1)):
        Delivery.objects.create(submission=make_submission(stage="event"), path="event", body=reply(),
                                status=status, attempts=attempts)
    window = guardrail.delivered_window(COURSE, timezone.now() - timedelta(hours=1))
    assert (window.results, window.errors) == (3, 1)


def test_worker_check_waits_for_its_interval(stage):
    stage("event", course=COURSE)
    with bridge_settings(guardrail={**ON, "CHECK_INTERVAL": 3600}):
        guardrail.periodic_check(force=True)
        for _ in range(3):
            make_submission(stage="event", grading_failures=1, status="queued")
        assert guardrail.periodic_check() == 0  # within the interval: not checked
        assert guardrail.periodic_check(force=True) == 1


def test_a_moved_course_is_judged_on_new_results_only(grade, stage):
    stage("shadow_event", course=COURSE)
    with bridge_settings(guardrail=ON):
        grade(reply(score=0.5))
        grade(reply(score=0.5))
        assert rollout.stage_of(COURSE).stage == "shadow_callback"
        stage("shadow_event", course=COURSE)  # an operator tries again
        grade(reply(score=1.0))
        grade(reply(score=1.0))

    assert rollout.stage_of(COURSE).stage == "shadow_event"
    assert GuardrailMove.objects.count() == 1
