"""Fixtures of the shadow comparison tests: a learner's answer graded over real HTTP."""

from __future__ import annotations

import pytest

from tests.support.grading import Grading
from tests.support.lms import COURSE


@pytest.fixture
def grade(lms, grader, learner):
    """grade(body, ...) -> (Grading, put_result answer): a learner in the sink, submitted, pulled, replied."""
    counter = iter(range(100, 10_000))

    def run(body: str, *, points_possible: int = 1, anonymous_id: str | None = None, course_id: str = COURSE,
            sink_anonymous_id: str | None = None):
        number = next(counter)
        anonymous_id = anonymous_id or f"anon-{number}"
        key = f"queue-key-{number}"
        url, _ = learner(user_id=number, anonymous_id=sink_anonymous_id or anonymous_id, queuekey=key,
                         max_score=points_possible, course_id=course_id)
        grading = Grading(lms, grader, url, key=key, anonymous_id=anonymous_id,
                          points_possible=points_possible if points_possible != 1 else None)
        return grading, grading.put(body)

    return run
