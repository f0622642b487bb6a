"""
Shadow mode keeps up or says so: a comparison the shadow thread reaches more than SHADOW["MAX_LAG"] after
its trigger is not conducted but recorded "shed" with the reason; shed results are counted by the report,
readiness and the cockpit apart from every rate, by the guardrail by the failures known without comparing,
and ``settled()`` counts them done.
"""

from __future__ import annotations

import io
import json
import re
import threading

import pytest
from django.core.management import call_command

from tests.support.config import bridge_settings
from tests.support.grading import reply
from tests.support.lms import COURSE
from tests.support.rows import make_comparison, only_comparison
from tests.support.waiting import wait_for
from xqueue_bridge.cockpit import stats
from xqueue_bridge.shadow import experiment, guardrail, scheduling
from xqueue_bridge.shadow.readiness import Thresholds, course_readiness
from xqueue_bridge.sink import learners
from xqueue_bridge.stage import rollout

pytestmark = pytest.mark.django_db(transaction=True)

THRESHOLDS = Thresholds(min_comparisons=3, min_hours=0.0, max_mismatch_rate=0.0, max_error_rate=0.0)


@pytest.fixture
def blocked_shadow_thread():
    """Holds this process's shadow thread busy until ``release.set()`` (released at the end in any case)."""
    started, release = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        release.wait(60)

    with bridge_settings(DELIVERY_MODE="thread"):
        scheduling.later(hold, lambda reason: started.set())
    assert started.wait(30)
    yield release
    release.set()
    assert wait_for(lambda: scheduling.waiting() == 0)


def release_late(release: threading.Event, monkeypatch, seconds: float) -> None:
    """Let the held shadow thread go as if ``seconds`` had passed, and wait until it has done everything."""
    now = scheduling.clock
    monkeypatch.setattr(scheduling, "clock", lambda: now() + seconds)
    release.set()
    assert wait_for(lambda: scheduling.waiting() == 0)


def test_comparisons_reached_past_max_lag_are_shed_with_the_reason(grade, stage, monkeypatch, blocked_shadow_thread):
    stage("shadow_event")
    with bridge_settings(DELIVERY_MODE="thread", shadow={"MAX_LAG": 1.0, "START_DELAY": 0.0}):
        grading, answer = grade(reply(score=0.5))
        refused, refusal = grade("not json")
        assert answer == (True, "") and refusal[0] is False
        # Both wait behind the busy thread: the delivered result, and the refused reply's pending comparison.
        assert wait_for(lambda: scheduling.waiting() == 3)
        assert not experiment.settled()
        release_late(blocked_shadow_thread, monkeypatch, 60.0)  # the thread gets to them a minute late
        assert experiment.settled()  # every sampled result is compared or shed: nothing is left waiting

    result, refusal_row = only_comparison(grading.submission), only_comparison(refused.submission)
    assert (result.status, result.trigger, refusal_row.status, refusal_row.trigger) == (
        "shed", "result", "shed", "refusal"
    )
    behind = float(re.match(r"shed under load: ([0-9.]+) s behind its trigger", result.error).group(1))
    assert behind >= 60.0  # the minute the clock moved, and however long the thread took to get there
    # What is known without a dry run stays: the event path refused the reply; the result was delivered.
    assert (refusal_row.control_error, result.control_error) == ("unscorable_reply", "")
    assert "s behind its trigger" in result.error and "(SHADOW['MAX_LAG'] 1 s)" in result.error
    assert "comparisons waiting in this process" in refusal_row.error
    assert refusal_row.reply == ""  # the refused reply is not kept once its comparison is settled
    assert (result.diff, result.control_duration, result.candidate_duration) == ({}, None, None)
    state = learners.problem_state(grading.submission.usage_key, course_id=COURSE, user_id=grading.submission.user_id)
    assert state.npoints == 0.5  # the learner is served whatever shadow mode does


def test_a_comparison_reached_within_max_lag_is_conducted(grade, stage, blocked_shadow_thread):
    stage("shadow_callback")
    with bridge_settings(DELIVERY_MODE="thread", shadow={"MAX_LAG": 3600.0, "START_DELAY": 0.0}):
        grading, answer = grade(reply(score=1.0))
        assert answer == (True, "")
        assert wait_for(lambda: scheduling.waiting() == 2)
        blocked_shadow_thread.set()
        assert wait_for(lambda: scheduling.waiting() == 0)

    comparison = only_comparison(grading.submission)
    assert (comparison.status, comparison.error) == ("matched", "")


def test_without_a_bound_nothing_is_shed(grade, stage, monkeypatch, blocked_shadow_thread):
    stage("shadow_callback")
    with bridge_settings(DELIVERY_MODE="thread", shadow={"MAX_LAG": None, "START_DELAY": 0.0}):
        grading, _ = grade(reply(score=1.0))
        assert wait_for(lambda: scheduling.waiting() == 2)
        release_late(blocked_shadow_thread, monkeypatch, 3600.0)

    assert only_comparison(grading.submission).status == "matched"


def shed_and_decided(course_id: str = COURSE, stage: str = "shadow_callback") -> None:
    """Three matched, one mismatched, one errored and five shed comparisons of ``course_id``."""
    for status in ("matched", "matched", "matched", "mismatched", "errored"):
        make_comparison(course_id=course_id, stage=stage, status=status, categories=["points_earned: units"]
                        if status == "mismatched" else [])
    for _ in range(5):
        make_comparison(course_id=course_id, stage=stage, status="shed", control_duration=None,
                        candidate_duration=None, error="shed under load: 7.0 s behind its trigger")


def test_readiness_counts_only_decided_comparisons_and_notes_the_shed_ones(stage):
    stage("shadow_callback", course=COURSE)
    shed_and_decided()

    item = course_readiness(COURSE, "shadow_callback", THRESHOLDS)
    assert (item.comparisons, item.shed) == (5, 5)
    assert (item.mismatch_rate, item.error_rate) == (0.25, 0.2)  # 1 of 4 decided, 1 of 5 compared
    assert any(note.startswith("5 of 10 sampled results shed under load") for note in item.notes)

    out = io.StringIO()
    call_command("readiness", "--course", COURSE, stdout=out)
    assert "5 of 10 sampled results shed under load (not compared" in out.getvalue()


def test_shed_results_alone_make_no_course_ready(stage):
    stage("shadow_callback", course=COURSE)
    for _ in range(5):
        make_comparison(status="shed", control_duration=None, candidate_duration=None)

    item = course_readiness(COURSE, "shadow_callback", THRESHOLDS)
    assert (item.ready, item.comparisons, item.shed) == (False, 0, 5)
    assert item.reasons[0] == "0 comparisons in shadow_callback, at least 3 needed"


def test_report_counts_shed_results_apart_from_every_rate():
    shed_and_decided()

    out = io.StringIO()
    call_command("shadow_report", "--format", "json", stdout=out)
    [group] = json.loads(out.getvalue())["groups"]
    assert (group["comparisons"], group["shed"], group["shed_rate"]) == (5, 5, 0.5)
    assert (group["match_rate"], group["mismatch_rate"], group["error_rate"]) == (0.75, 0.25, 0.2)

    table = io.StringIO()
    call_command("shadow_report", stdout=table)
    assert "  5 of 10 sampled results shed under load (not compared" in table.getvalue()
    assert "shed past MAX_LAG 5 s" in table.getvalue()


def test_the_guardrail_counts_shed_results_by_their_known_failures_only(stage):
    shed_and_decided(stage="shadow_event")
    make_comparison(stage="shadow_event", status="shed", trigger="refusal", control_error="unscorable_reply",
                    control_duration=None, candidate_duration=None)

    window = guardrail.compared_window(COURSE, guardrail.window_start(COURSE, 24.0))
    # 5 compared and 6 shed results; the mismatch rate of the 4 decided; errors: the errored comparison and
    # the shed refusal (the event path could not score it), not the shed results delivered.
    assert (window.results, window.decided, window.mismatched, window.errors) == (11, 4, 1, 2)


def test_a_shed_refusal_in_shadow_event_reaches_the_guardrail(grade, stage, monkeypatch, blocked_shadow_thread):
    stage("shadow_event")
    limits = {"ENABLED": True, "MIN_COMPARISONS": 1, "MAX_ERROR_RATE": 0.0, "MAX_MISMATCH_RATE": 1.0}
    with bridge_settings(DELIVERY_MODE="thread", shadow={"MAX_LAG": 1.0, "START_DELAY": 0.0}, guardrail=limits):
        refused, refusal = grade("not json")
        assert refusal[0] is False
        assert wait_for(lambda: scheduling.waiting() == 2)
        release_late(blocked_shadow_thread, monkeypatch, 60.0)

    assert only_comparison(refused.submission).status == "shed"
    assert rollout.stage_of(COURSE).stage == "shadow_callback"  # moved back: the event path failed a reply


def test_the_cockpit_counts_shed_comparisons_as_their_own_verdict():
    shed_and_decided()

    hours = stats.match_series("hour", 3)  # the rows are an hour old
    assert sum(point["shed"] for point in hours) == 5 and sum(point["matched"] for point in hours) == 3
    assert stats.comparisons_by_verdict(24.0)[("shadow_callback", "shed")] == 5
