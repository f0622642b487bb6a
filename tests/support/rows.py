"""
Rows written directly, as the bridge would have left them: graded submissions and decided comparisons
(for the report, readiness, retention and guardrail tests, which need many of them, of any age); and the
one comparison a graded submission left.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils import timezone

from tests.support.lms import COURSE, callback_url, usage_key_for
from xqueue_bridge.models import Submission
from xqueue_bridge.shadow.models import Comparison

_numbers = iter(range(1, 1_000_000))


def make_submission(*, course_id: str = COURSE, stage: str = "shadow_callback", queue: str = "test-pull",
                    points_possible: int = 1, user_id: int | None = None, **fields) -> Submission:
    """A submission row as the intake records it (graded, with an allowed callback URL)."""
    number = next(_numbers)
    user_id = user_id if user_id is not None else number
    usage_key = usage_key_for(course_id, f"p{number}")
    url = callback_url("http://127.0.0.1:8000", course_id, user_id, usage_key=usage_key)
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


def only_comparison(submission: Submission, **filters) -> Comparison:
    """The one comparison (noise baseline aside) a submission left; fails if there are none or several."""
    [comparison] = Comparison.objects.filter(submission=submission, noise=False, **filters)
    return comparison
