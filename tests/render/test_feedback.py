"""The learner-visible feedback the renderer stores and shadow mode compares."""

from __future__ import annotations

import pytest
from django.test import override_settings

from xqueue_bridge.data import ProblemSnapshot
from xqueue_bridge.render.feedback import feedback_html

HOSTILE = '<p onclick="steal()">Done</p><script>steal()</script>'


def test_feedback_shows_status_points_and_message():
    snapshot = ProblemSnapshot(max_score=2, correctness="correct", npoints=2.0, msg="<p>All tests passed</p>")

    assert feedback_html(snapshot) == (
        '<div class="xqueue-feedback correct">'
        '<p class="xqueue-feedback-status">Correct</p>'
        '<p class="xqueue-feedback-score">2 / 2 points</p>'
        '<div class="xqueue-feedback-message"><p>All tests passed</p></div>'
        "</div>"
    )


@pytest.mark.parametrize(
    ("snapshot", "status", "points"),
    [
        (ProblemSnapshot(correctness="incorrect", npoints=0.5), "Incorrect", "0.5 / 1 points"),
        (ProblemSnapshot(correctness="incorrect", npoints=2 / 3), "Incorrect", "0.67 / 1 points"),
        (ProblemSnapshot(correctness="correct", npoints=None), "Correct", "1 / 1 points"),
        (
            ProblemSnapshot(correctness="partially-correct", npoints=0.25),
            "Partially correct",
            "0.25 / 1 points",
        ),
        (ProblemSnapshot(queuekey="k", correctness="incomplete"), "Queued for grading", "0 / 1 points"),
        (ProblemSnapshot(correctness=None, msg="Invalid grader reply."), "Not graded", "0 / 1 points"),
        (ProblemSnapshot(max_score=3, correctness="correct", npoints=12.0), "Correct", "12 / 3 points"),
    ],
    ids=[
        "fraction",
        "repeating-fraction",
        "correct-without-points",
        "partial",
        "queued",
        "invalid",
        "above-max",
    ],
)
def test_feedback_status_and_points(snapshot, status, points):
    html = feedback_html(snapshot)

    assert f'<p class="xqueue-feedback-status">{status}</p>' in html
    assert f'<p class="xqueue-feedback-score">{points}</p>' in html


@override_settings(XQUEUE_BRIDGE={"SANITIZE_FEEDBACK": True})
def test_grader_message_is_sanitized_when_the_setting_is_on():
    html = feedback_html(ProblemSnapshot(correctness="correct", msg=HOSTILE))

    assert '<div class="xqueue-feedback-message"><p>Done</p></div>' in html
    assert "script" not in html and "onclick" not in html


@override_settings(XQUEUE_BRIDGE={"SANITIZE_FEEDBACK": False})
def test_grader_message_is_verbatim_when_the_setting_is_off():
    html = feedback_html(ProblemSnapshot(correctness="correct", msg=HOSTILE))

    assert f'<div class="xqueue-feedback-message">{HOSTILE}</div>' in html


def test_explicit_argument_overrides_the_setting():
    snapshot = ProblemSnapshot(correctness="correct", msg=HOSTILE)

    assert HOSTILE in feedback_html(snapshot, sanitize=False)
    assert HOSTILE not in feedback_html(snapshot, sanitize=True)


def test_feedback_is_deterministic_for_equal_snapshots():
    first = ProblemSnapshot(
        correctness="incorrect", npoints=0.5, msg='<div class="a"><pre>x &lt; 1</pre></div>'
    )
    second = ProblemSnapshot(
        correctness="incorrect", npoints=0.5, msg='<div class="a"><pre>x &lt; 1</pre></div>'
    )

    assert feedback_html(first) == feedback_html(second)
    assert feedback_html(first) == feedback_html(first)
