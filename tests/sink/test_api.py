"""The sink's Python API: recording a submission the way the LMS does, reading state and updates back."""

from __future__ import annotations

import pytest

from tests.support import sink
from tests.support.sink import ANON, COURSE, KEY, USAGE, USER, callback_update, queue, reply
from xqueue_bridge.errors import UnknownProblem
from xqueue_bridge.sink import learners
from xqueue_bridge.sink.renderer import StandaloneRenderer

pytestmark = pytest.mark.django_db


def test_begin_attempt_records_a_queued_input():
    state = learners.begin_attempt(COURSE, USAGE, 7, ANON, KEY, max_score=3)

    assert (state.user_id, state.anonymous_student_id, state.max_score) == (USER, ANON, 3)
    assert (state.queuekey, state.correctness, state.npoints, state.msg) == (KEY, "incomplete", None, "")
    assert "Queued for grading" in state.feedback_html and "0 / 3 points" in state.feedback_html


def test_begin_attempt_again_requeues_the_same_row_and_keeps_the_log():
    first = queue()
    StandaloneRenderer().apply(callback_update(reply(score=1)))

    second = queue(queuekey="key-2", max_score=2)

    assert second.pk == first.pk
    assert (second.queuekey, second.correctness, second.npoints, second.max_score) == (
        "key-2",
        "incomplete",
        None,
        2,
    )
    assert len(sink.updates()) == 1


def test_begin_attempt_refuses_a_key_a_result_was_applied_under():
    queue()
    StandaloneRenderer().apply(callback_update(reply(score=1)))

    with pytest.raises(ValueError, match="already applied"):
        queue(queuekey=KEY)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"queuekey": ""}, "queuekey"), ({"queuekey": "k" * 256}, "queuekey"), ({"max_score": -1}, "max_score")],
    ids=["empty-key", "long-key", "negative-max-score"],
)
def test_begin_attempt_refuses_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        queue(**kwargs)


def test_problem_state_by_either_identity():
    queue()

    assert learners.problem_state(USAGE, user_id=USER) == learners.problem_state(USAGE, anonymous_student_id=ANON)
    assert learners.problem_state(USAGE, course_id=COURSE, user_id=int(USER)).user_id == USER


@pytest.mark.parametrize(
    "kwargs", [{}, {"user_id": USER, "anonymous_student_id": ANON}], ids=["none", "both"]
)
def test_problem_state_needs_exactly_one_identity(kwargs):
    with pytest.raises(ValueError, match="exactly one"):
        learners.problem_state(USAGE, **kwargs)


def test_problem_state_of_an_unknown_problem_says_what_to_do():
    with pytest.raises(UnknownProblem, match="begin_attempt"):
        learners.problem_state(USAGE, user_id=USER)


def test_learner_updates_are_oldest_first_and_empty_for_unknown_problems():
    queue()
    renderer = StandaloneRenderer()
    renderer.apply(callback_update("not json"))
    queue(queuekey="key-2")
    renderer.apply(callback_update(reply(score=1), queuekey="key-2"))

    assert [(u.valid_reply, u.applied) for u in learners.learner_updates(USAGE, anonymous_student_id=ANON)] == [
        (False, False),
        (True, True),
    ]
    assert learners.learner_updates(USAGE, user_id="999") == []


def test_two_learners_keep_separate_state():
    queue()
    learners.begin_attempt(COURSE, USAGE, "8", "anon-8", "key-8")

    StandaloneRenderer().apply(callback_update(reply(score=1), user_id="8", queuekey="key-8"))

    assert learners.problem_state(USAGE, user_id="8").npoints == 1.0
    assert sink.state().queuekey == KEY


def test_problem_state_text_never_shows_the_queue_key():
    assert KEY not in str(queue())
