"""The standalone receiver of EXTERNAL_GRADER_SCORE_SUBMITTED, driven by openedx-events' own send_event."""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.test import override_settings
from openedx_events.learning.data import ExternalGraderScoreData
from openedx_events.learning.signals import EXTERNAL_GRADER_SCORE_SUBMITTED

from tests.support import sink
from tests.support.sink import ANON, COURSE, KEY, USAGE, queue, reply
from xqueue_bridge.errors import RenderFailed, UnknownProblem
from xqueue_bridge.render.capa import INVALID_REPLY_MSG
from xqueue_bridge.sink.receivers import handle_external_grader_score

pytestmark = pytest.mark.django_db


def score_data(score_msg: str, **overrides) -> ExternalGraderScoreData:
    fields = {
        "points_possible": 1,
        "points_earned": 1,
        "course_id": COURSE,
        "score_msg": score_msg,
        "submission_id": 41,
        "user_id": ANON,
        "module_id": USAGE,
        "queue_key": KEY,
        "queue_name": "python-grader",
    }
    fields.update(overrides)
    return ExternalGraderScoreData(**fields)


def send(score: ExternalGraderScoreData):
    """Send as the bridge's event delivery and edx-submissions do: a receiver's exception reaches them."""
    return EXTERNAL_GRADER_SCORE_SUBMITTED.send_event(send_robust=False, score=score)


def test_event_is_applied_to_the_learner_found_by_anonymous_id():
    queue()

    responses = send(score_data(reply(correct=True, score=1, msg="<p>All tests passed</p>")))

    [(receiver, outcome)] = [(r, o) for r, o in responses if r is handle_external_grader_score]
    assert outcome.applied
    state = sink.state()
    assert (state.correctness, state.npoints, state.msg, state.queuekey) == (
        "correct",
        1.0,
        "<p>All tests passed</p>",
        None,
    )
    assert [(u.via, u.applied) for u in sink.updates()] == [("event", True)]


def test_learner_result_comes_from_the_raw_reply_not_points_earned():
    """edx-submissions rounds 0.5 of 1 point to 0; the learner still sees the reply's own score."""
    queue()

    send(score_data(reply(correct=True, score=0.5), points_earned=0))

    assert sink.state().npoints == 0.5


@pytest.mark.parametrize("score_msg", ["All tests passed", "", "{'correct': True}"])
def test_score_msg_that_is_not_json_raises_before_anything_is_looked_up(score_msg):
    queue()

    with pytest.raises(json.JSONDecodeError):
        send(score_data(score_msg))
    assert sink.updates() == []
    assert sink.state().queuekey == KEY


def test_json_that_is_not_a_reply_is_applied_as_an_invalid_reply():
    queue()

    send(score_data(json.dumps(["correct", 1])))

    assert (sink.state().msg, sink.state().queuekey) == (INVALID_REPLY_MSG, None)


@pytest.mark.parametrize(
    "overrides",
    [{"user_id": "anon-unknown"}, {"module_id": USAGE.replace("p1", "p9")}],
    ids=["unknown-learner", "unknown-problem"],
)
def test_unknown_learner_or_problem_raises(overrides):
    queue()

    with pytest.raises(UnknownProblem):
        send(score_data(reply(), **overrides))
    assert sink.updates() == []


def test_reply_the_lms_fails_on_raises_and_applies_nothing():
    queue()

    with pytest.raises(RenderFailed, match="submission 41: .*not a number"):
        send(score_data(reply(score="ten")))
    assert (sink.state().queuekey, sink.state().correctness) == (KEY, "incomplete")


def test_duplicate_event_is_a_quiet_no_op():
    queue()
    send(score_data(reply(score=1, msg="<p>first</p>")))

    send(score_data(reply(score=0, msg="<p>again</p>")))

    assert (sink.state().npoints, sink.state().msg) == (1.0, "<p>first</p>")
    assert [u.applied for u in sink.updates()] == [True, False]


def test_event_for_an_older_submission_changes_nothing():
    queue(queuekey="old-key")
    queue(queuekey="new-key")

    send(score_data(reply(score=1), queue_key="old-key"))

    assert (sink.state().queuekey, sink.state().correctness) == ("new-key", "incomplete")


def test_robust_send_hands_the_failure_back_instead_of_raising():
    queue()

    responses = EXTERNAL_GRADER_SCORE_SUBMITTED.send_event(score=score_data(reply(), user_id="anon-unknown"))

    [outcome] = [o for r, o in responses if r is handle_external_grader_score]
    assert isinstance(outcome, UnknownProblem)


def test_receiver_does_nothing_while_receiving_ends_are_off():
    queue()

    with override_settings(XQUEUE_BRIDGE={"RECEIVING_ENDS": False}):
        responses = send(score_data(reply(score=1)))

    assert [o for r, o in responses if r is handle_external_grader_score] == [None]
    assert sink.state().queuekey == KEY and sink.updates() == []


def test_app_ready_twice_still_applies_each_event_once():
    apps.get_app_config("xqueue_bridge_sink").ready()
    queue()

    responses = send(score_data(reply(score=1)))

    assert [r for r, _ in responses].count(handle_external_grader_score) == 1
    assert len(sink.updates()) == 1
