"""Rows for the cockpit's tests, written in bulk: courses with submissions, deliveries and comparisons."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from xqueue_bridge.models import Delivery, Submission
from xqueue_bridge.shadow.models import Comparison

_numbers = itertools.count(1)
STAFF, STAFF_PASSWORD = "operator", "operator-password"


def make_staff(username: str = STAFF, password: str = STAFF_PASSWORD):
    user = get_user_model().objects.create_user(username, password=password, is_staff=True, is_superuser=True)
    return user


def submissions(courses: list[str], *, stage: str = "callback", status: str = Submission.Status.GRADED,
                queue: str = "test-pull", hours_ago: float = 1.0) -> list[Submission]:
    """One submission per course, written in one bulk insert."""
    now = timezone.now() - timedelta(hours=hours_ago)
    rows = []
    for course in courses:
        number = next(_numbers)
        usage = f"block-v1:{course.removeprefix('course-v1:')}+type@problem+block@p{number}"
        url = f"http://127.0.0.1:8000/courses/{course}/xqueue/{number}/{usage}/score_update"
        rows.append(Submission(
            queue_name=queue, xqueue_header=json.dumps({"lms_callback_url": url, "lms_key": f"k{number}"}),
            xqueue_body="{}", lms_callback_url=url, callback_digest=f"{number:064d}", lms_key=f"k{number}",
            course_id=course, usage_key=usage, user_id=str(number), stage=stage, stage_reason="seeded",
            status=status, created_at=now, replied_at=now,
        ))
    return Submission.objects.bulk_create(rows, batch_size=2000)


def deliveries(subs: list[Submission], *, path: str = "callback", status: str = Delivery.Status.DELIVERED,
               latency: float = 0.2, attempts: int = 1) -> list[Delivery]:
    rows = [
        Delivery(submission=sub, path=path, body="{}", status=status, attempts=attempts,
                 created_at=sub.created_at, next_attempt_at=sub.created_at, budget_started_at=sub.created_at,
                 finished_at=sub.created_at + timedelta(seconds=latency) if status != "pending" else None,
                 last_error="" if status == "delivered" else "HTTP 503 from the LMS")
        for sub in subs
    ]
    return Delivery.objects.bulk_create(rows, batch_size=2000)


def comparisons(subs: list[Submission], *, status: str = "matched", per_submission: int = 1,
                hours_ago: float | None = None) -> int:
    rows = []
    for sub in subs:
        created = timezone.now() - timedelta(hours=hours_ago) if hours_ago is not None else sub.created_at
        control = "event" if sub.stage in ("shadow_event", "event") else "callback"
        for _ in range(per_submission):
            rows.append(Comparison(
                submission=sub, trigger="result", course_id=sub.course_id,
                org=sub.course_id.split(":", 1)[1].split("+")[0], queue_name=sub.queue_name, stage=sub.stage,
                control_path=control, candidate_path="callback" if control == "event" else "event", status=status,
                created_at=created, compared_at=created, control_duration=0.01, candidate_duration=0.002,
            ))
    Comparison.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
