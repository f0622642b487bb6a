"""The feedback a learner sees for a problem state: status, points and the grader's message."""

from __future__ import annotations

import html

from xqueue_bridge.conf import get_setting
from xqueue_bridge.data import ProblemSnapshot
from xqueue_bridge.render.sanitize import sanitize_feedback


def _points(value: float) -> str:
    """A number of points for people: ``1``, ``0.5``, ``0.67`` (two decimals at most)."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


_STATUS = {
    "correct": ("correct", "Correct"),
    "incorrect": ("incorrect", "Incorrect"),
    "partially-correct": ("partially-correct", "Partially correct"),
    "incomplete": ("incomplete", "Queued for grading"),
    None: ("unanswered", "Not graded"),
}


def feedback_html(snapshot: ProblemSnapshot, *, sanitize: bool | None = None) -> str:
    """
    The learner-visible feedback of ``snapshot``: status, "earned / max points" and the grader's message.

    The message is passed through ``sanitize_feedback`` when SANITIZE_FEEDBACK is on (or ``sanitize`` says
    so); everything else is built from fixed strings and numbers, so the output is deterministic.
    """
    if sanitize is None:
        sanitize = get_setting("SANITIZE_FEEDBACK")
    css, label = _STATUS.get(snapshot.correctness, (None, None))
    if css is None:
        css = label = html.escape(str(snapshot.correctness))
    message = sanitize_feedback(snapshot.msg) if sanitize else snapshot.msg
    score = f"{_points(snapshot.earned)} / {_points(snapshot.max_score)} points"
    return (
        f'<div class="xqueue-feedback {css}">'
        f'<p class="xqueue-feedback-status">{label}</p>'
        f'<p class="xqueue-feedback-score">{score}</p>'
        f'<div class="xqueue-feedback-message">{message}</div>'
        "</div>"
    )
