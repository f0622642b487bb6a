"""
Each difference of CONTRACTS.md §4 the bridge can observe, reported by shadow mode: the whole loop over
real HTTP (LMS client, grader client, the bridge's own callback URL and event receiver), then the
comparison that was recorded.
"""

from __future__ import annotations

import json

import pytest

from tests.support.config import bridge_settings
from tests.support.grading import reply
from tests.support.lms import COURSE, HTTP_500, submission_for
from tests.support.rows import only_comparison
from xqueue_bridge.render.capa import INVALID_REPLY_MSG
from xqueue_bridge.shadow.models import Comparison
from xqueue_bridge.sink import learners

pytestmark = pytest.mark.django_db(transaction=True)


def state_of(grading):
    submission = grading.submission
    return learners.problem_state(submission.usage_key, course_id=submission.course_id, user_id=submission.user_id)


# --- score units and rounding ------------------------------------------------------------------------


def test_half_a_point_is_a_points_earned_mismatch_by_rounding_in_shadow_callback(grade, stage):
    stage("shadow_callback")
    grading, answer = grade(reply(score=0.5))

    assert answer == (True, "")
    comparison = only_comparison(grading.submission)
    assert (comparison.status, comparison.control_path, comparison.candidate_path) == (
        "mismatched", "callback", "event"
    )
    assert comparison.diff == {"points_earned": {"control": 0.5, "candidate": 0.0}}
    assert comparison.categories == ["points_earned: rounding"]
    assert state_of(grading).npoints == 0.5  # the learner got the callback's result


def test_half_a_point_is_the_same_mismatch_the_other_way_round_in_shadow_event(grade, stage):
    stage("shadow_event")
    grading, answer = grade(reply(score=0.5))

    assert answer == (True, "")
    comparison = only_comparison(grading.submission)
    assert (comparison.control_path, comparison.candidate_path) == ("event", "callback")
    assert comparison.diff == {"points_earned": {"control": 0.0, "candidate": 0.5}}
    assert comparison.categories == ["points_earned: rounding"]


def test_a_fraction_on_a_four_point_problem_is_a_mismatch_of_units(grade, stage):
    stage("shadow_callback")
    grading, _ = grade(reply(correct=False, score=0.75), points_possible=4)

    comparison = only_comparison(grading.submission)
    assert comparison.diff == {"points_earned": {"control": 0.75, "candidate": 3.0}}
    assert comparison.categories == ["points_earned: units"]


def test_full_marks_on_a_one_point_problem_match(grade, stage):
    stage("shadow_callback")
    grading, _ = grade(reply(score=1.0))

    comparison = only_comparison(grading.submission)
    assert (comparison.status, comparison.diff, comparison.categories) == ("matched", {}, [])
    assert comparison.control_digest == comparison.candidate_digest


# --- negative scores: clamped vs rejected ------------------------------------------------------------


def test_negative_score_is_clamped_by_the_callback_and_rejected_by_the_event_path(grade, stage):
    stage("shadow_callback")
    grading, answer = grade(reply(correct=False, score=-1))

    assert answer == (True, "")
    comparison = only_comparison(grading.submission)
    assert comparison.status == "mismatched"
    assert comparison.categories == ["error: negative_score"]
    assert comparison.diff["points_earned"] == {"control": 0.0, "candidate": None}
    assert comparison.diff["error"] == {"control": None, "candidate": "unscorable_reply"}
    assert comparison.diff["key_consumed"] == {"control": True, "candidate": False}
    assert comparison.diff["correctness"] == {"control": "incorrect", "candidate": "incomplete"}
    assert (comparison.control_error, comparison.candidate_error) == ("", "unscorable_reply")


def test_negative_score_refused_in_shadow_event_is_compared_with_the_callback(grade, stage):
    stage("shadow_event")
    grading, answer = grade(reply(correct=False, score=-1))

    assert answer[0] is False and "negative" in answer[1]
    comparison = only_comparison(grading.submission)
    assert (comparison.trigger, comparison.control_path, comparison.status) == ("refusal", "event", "mismatched")
    assert comparison.categories == ["error: negative_score"]
    assert comparison.diff["error"] == {"control": "unscorable_reply", "candidate": None}
    assert comparison.diff["points_earned"] == {"control": None, "candidate": 0.0}
    assert comparison.reply == ""  # the refused reply was kept only while pending


# --- invalid replies: "Invalid grader reply" vs retry and nothing ------------------------------------


def test_invalid_reply_shows_the_learner_an_error_on_the_callback_and_nothing_on_the_event_path(grade, stage):
    stage("shadow_callback")
    grading, answer = grade("All tests passed")  # not JSON

    assert answer == (True, "")
    assert state_of(grading).msg == INVALID_REPLY_MSG
    comparison = only_comparison(grading.submission)
    assert comparison.categories == ["error: invalid_reply"]
    assert comparison.diff["correctness"] == {"control": None, "candidate": "incomplete"}
    assert comparison.diff["key_consumed"] == {"control": True, "candidate": False}
    assert comparison.diff["feedback"]["control"].startswith("sha256:")


def test_invalid_reply_refused_in_shadow_event_leaves_the_learner_queued(grade, stage):
    stage("shadow_event")
    grading, answer = grade('{"correct": true}')  # no score

    assert answer[0] is False
    assert state_of(grading).queuekey is not None  # still queued, to be graded again
    comparison = only_comparison(grading.submission)
    assert comparison.categories == ["error: invalid_reply"]
    assert comparison.context == {"attempt": 1, "given_up": False, "notice": False}
    assert comparison.diff["error"] == {"control": "unscorable_reply", "candidate": None}


def test_reply_without_msg_is_scored_by_the_event_path_but_invalid_for_capa(grade, stage):
    stage("shadow_callback")
    grading, _ = grade(json.dumps({"correct": True, "score": 1}))

    comparison = only_comparison(grading.submission)
    # Both LMS ends render "Invalid grader reply"; only edx-submissions' score row holds the point.
    assert comparison.diff == {"points_earned": {"control": 0.0, "candidate": 1.0}}
    assert comparison.categories == ["points_earned: invalid_reply_scored"]


# --- the correct flag: used vs ignored outside score_msg (not observable) ----------------------------


def test_correct_flag_that_contradicts_the_score_matches_because_both_ends_render_the_raw_reply(grade, stage):
    stage("shadow_callback")
    grading, _ = grade(reply(correct=True, score=0))

    comparison = only_comparison(grading.submission)
    assert comparison.status == "matched"
    assert state_of(grading).correctness == "correct"


# --- duplicates: 200 no-op vs 500 --------------------------------------------------------------------


def test_duplicate_reply_is_a_no_op_for_the_callback_and_an_error_for_edx_submissions(grade, lms_server, stage):
    stage("shadow_callback")
    grading, first = grade(reply(score=1.0))
    second = grading.put(reply(score=1.0))  # the grader's retry after a timeout

    assert first == second == (True, "")
    duplicate = only_comparison(grading.submission, trigger="duplicate")
    assert duplicate.status == "mismatched"
    assert duplicate.categories == ["error: duplicate_reply"]
    assert duplicate.diff == {"error": {"control": None, "candidate": "duplicate_reply"}}
    assert only_comparison(grading.submission, trigger="result").status == "matched"


def test_duplicate_in_shadow_event_reports_the_event_paths_500(grade, stage):
    stage("shadow_event")
    grading, _ = grade(reply(score=0.5))
    assert grading.put(reply(score=0.5)) == (True, "")

    duplicate = only_comparison(grading.submission, trigger="duplicate")
    assert duplicate.categories == ["error: duplicate_reply", "points_earned: rounding"]
    assert duplicate.diff == {
        "points_earned": {"control": 0.0, "candidate": 0.5},
        "error": {"control": "duplicate_reply", "candidate": None},
    }


# --- stale replies after a resubmission (refused before either path runs) ----------------------------


def test_stale_reply_after_a_resubmission_is_refused_before_any_path_runs(lms, grader, lms_server, stage):
    stage("shadow_callback")
    url = lms_server.callback_url()
    header, body = submission_for(url, key="old-key")
    assert lms.submit(header, body)[0] == 0
    old = grader.get_submission("test-pull")
    newer_header, _ = submission_for(url, key="new-key")
    assert lms.submit(newer_header, body)[0] == 0

    answer = grader.put_result(old["xqueue_header"], reply())
    assert answer[0] is False and "newer submission" in answer[1]
    assert Comparison.objects.count() == 0
    assert lms_server.calls == []


# --- delivery failure and terminal failure -----------------------------------------------------------


def test_given_up_callback_delivery_is_a_mismatch_on_error(lms, grader, lms_server, stage):
    stage("shadow_callback")
    lms_server.fault_for = lambda key: HTTP_500
    header, body = submission_for(lms_server.callback_url(), key="k-dead")
    with bridge_settings(DELIVERY_RETRY={"max_attempts": 1}):
        assert lms.submit(header, body)[0] == 0
        served = grader.get_submission("test-pull")
        assert grader.put_result(served["xqueue_header"], reply()) == (True, "")

    comparison = Comparison.objects.get(trigger="result")
    assert comparison.status == "mismatched"
    assert comparison.control_error == "delivery_failed"
    assert "error: delivery_failed" in comparison.categories
    assert comparison.diff["error"] == {"control": "delivery_failed", "candidate": None}
    # What the learner got instead: the failure notice (no points, not correct), not the grader's result.
    assert comparison.diff["correctness"] == {"control": "incorrect", "candidate": "correct"}
    # Two callbacks were sent, the result and the failure notice (also refused); none by the candidate.
    sent = [json.loads(call["form"]["xqueue_body"]) for call in lms_server.calls]
    assert [body["score"] for body in sent] == [1.0, 0]
    assert "could not be graded" in sent[1]["msg"]


def test_last_refused_attempt_tells_the_learner_where_edx_submissions_leaves_them_queued(grade, stage):
    stage("shadow_event")
    with bridge_settings(MAX_GRADING_ATTEMPTS=1):
        grading, answer = grade("not json")

    assert answer[0] is False and "given up" in answer[1]
    state = state_of(grading)
    assert state.queuekey is None and "could not be graded" in state.msg  # the failure notice
    comparison = only_comparison(grading.submission)
    assert comparison.context == {"attempt": 1, "given_up": True, "notice": True}
    assert comparison.categories[:2] == ["terminal: failure_notice", "error: invalid_reply"]
    assert comparison.diff["error"] == {"control": "unscorable_reply", "candidate": None}
    assert comparison.diff["correctness"] == {"control": "incorrect", "candidate": None}


# --- identity: numeric user id in the URL vs anonymous id --------------------------------------------


def test_event_path_that_cannot_find_the_learner_by_anonymous_id_is_an_identity_mismatch(grade, stage):
    stage("shadow_callback")
    # The LMS sent an anonymous id its own receiver does not know for this learner (another id scheme).
    grading, answer = grade(reply(), anonymous_id="anon-from-another-scheme", sink_anonymous_id="anon-real")

    assert answer == (True, "")
    assert state_of(grading).correctness == "correct"  # the callback found the learner by user id
    comparison = only_comparison(grading.submission)
    assert comparison.categories == ["identity: learner_not_found"]
    assert comparison.diff["learner"]["candidate"] == "unknown learner"
    assert comparison.diff["learner"]["control"].startswith("problem state ")


# --- everything is reported per course ---------------------------------------------------------------


def test_each_difference_lands_in_the_report_of_its_course(grade, stage):
    from django.core.management import call_command

    stage("shadow_callback", course=COURSE)
    grade(reply(score=0.5))
    grade(reply(score=-1))
    grade(reply(score=1.0))
    other = "course-v1:BridgeX+Other+2026"
    stage("shadow_callback", course=other)
    grade(reply(score=1.0), course_id=other)

    import io

    out = io.StringIO()
    call_command("shadow_report", "--format", "json", stdout=out)
    groups = {group["group"]: group for group in json.loads(out.getvalue())["groups"]}
    mine = groups[COURSE]
    assert (mine["comparisons"], mine["matched"], mine["mismatched"]) == (3, 1, 2)
    assert {entry["category"]: entry["count"] for entry in mine["categories"]} == {
        "points_earned: rounding": 1, "error: negative_score": 1,
    }
    assert (groups[other]["comparisons"], groups[other]["match_rate"]) == (1, 1.0)
