"""
Helpers of the shadow comparison tests: bridge settings, graded submissions over real HTTP, captured
score events, and submissions or comparisons written directly for the report and readiness tests.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from tests.conftest import COURSE, submission_for
from xqueue_bridge.models import Submission
from xqueue_bridge.shadow.models import Comparison


def bridge_settings(*, shadow: dict | None = None, guardrail: dict | None = None, **overrides):
    """override_settings of XQUEUE_BRIDGE; ``shadow`` and ``guardrail`` are merged into their dicts."""
    merged = {**settings.XQUEUE_BRIDGE, **overrides}
    if shadow is not None:
        merged["SHADOW"] = {**settings.XQUEUE_BRIDGE.get("SHADOW", {}), **shadow}
    if guardrail is not None:
        merged["GUARDRAIL"] = {**settings.XQUEUE_BRIDGE.get("GUARDRAIL", {}), **guardrail}
    return override_settings(XQUEUE_BRIDGE=merged)


def reply(correct=True, score=1.0, msg="<p>All tests passed</p>") -> str:
    return json.dumps({"correct": correct, "score": score, "msg": msg})


class Grading:
    """One learner answer submitted as the LMS does and pulled as a grader does, ready for its reply."""

    def __init__(self, lms, grader, url: str, *, key: str, anonymous_id: str, points_possible: int | None = None,
                 queue: str = "test-pull"):
        self.grader = grader
        header, body = submission_for(url, key=key, anonymous_id=anonymous_id, queue=queue)
        extra = {"points_possible": str(points_possible)} if points_possible else None
        code, content = lms.submit(header, body, extra=extra)
        assert code == 0, content
        self.served = grader.get_submission(queue)
        assert self.served is not None
        self.submission = Submission.objects.get(pk=json.loads(self.served["xqueue_header"])["submission_id"])

    def put(self, body: str):
        return self.grader.put_result(self.served["xqueue_header"], body)


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


def only_comparison(submission: Submission, **filters) -> Comparison:
    [comparison] = Comparison.objects.filter(submission=submission, noise=False, **filters)
    return comparison


# --- rows written directly (report, readiness, retention) -------------------------------------------

_numbers = iter(range(1, 1_000_000))


def make_submission(*, course_id: str = COURSE, stage: str = "shadow_callback", queue: str = "test-pull",
                    points_possible: int = 1, user_id: int | None = None, **fields) -> Submission:
    """A submission row as the intake records it (graded, with an allowed callback URL)."""
    number = next(_numbers)
    user_id = user_id if user_id is not None else number
    usage_key = f"block-v1:{course_id.removeprefix('course-v1:')}+type@problem+block@p{number}"
    from xqueue_bridge.keys import quote_slashes

    url = f"http://127.0.0.1:8000/courses/{course_id}/xqueue/{user_id}/{quote_slashes(usage_key)}/score_update"
    key = f"lms-key-{number}"
    values = {
        "queue_name": queue,
        "xqueue_header": json.dumps({"lms_callback_url": url, "lms_key": key, "queue_name": queue}),
        "xqueue_body": "{}",
        "lms_callback_url": url,
        "callback_digest": f"{number:064d}",
        "lms_key": key,
        "course_id": course_id,
        "usage_key": usage_key,
        "user_id": str(user_id),
        "anonymous_student_id": f"anon-{number}",
        "points_possible": points_possible,
        "stage": stage,
        "stage_reason": "set by the test",
        "status": Submission.Status.GRADED,
        "pullkey": f"pull-{number}",
    }
    values.update(fields)
    return Submission.objects.create(**values)


def make_comparison(*, status: str = "matched", hours_ago: float = 1.0, course_id: str = COURSE,
                    stage: str = "shadow_callback", noise: bool = False, **fields) -> Comparison:
    """A decided comparison row, ``hours_ago`` old."""
    submission = fields.pop("submission", None) or make_submission(
        course_id=course_id, stage=stage, queue=fields.pop("queue", "test-pull")
    )
    control = "event" if stage in ("shadow_event", "event") else "callback"
    other = {"callback": "event", "event": "callback"}[control]
    created = timezone.now() - timedelta(hours=hours_ago)
    values = {
        "submission": submission, "trigger": "result", "noise": noise, "course_id": course_id,
        "org": course_id.split(":", 1)[1].split("+")[0], "queue_name": submission.queue_name, "stage": stage,
        "control_path": control, "candidate_path": control if noise else other, "status": status,
        "control_duration": 0.010, "candidate_duration": 0.002, "created_at": created, "compared_at": created,
        "clean_rules": ["nbsp", "collapse_whitespace", "points_precision"],
    }
    values.update(fields)
    return Comparison.objects.create(**values)
