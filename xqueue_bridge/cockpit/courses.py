"""Courses as the cockpit lists them: each known course with its stage and why, filtered by org or stage."""

from __future__ import annotations

from django.urls import reverse
from django.utils.http import urlencode

from xqueue_bridge.cockpit import stats
from xqueue_bridge.shadow.readiness import check
from xqueue_bridge.stage import rollout


def course_stages(*, org: str | None = None, stage: str | None = None, search: str | None = None) -> list[dict]:
    """Every known course (overrides or submissions) with its stage now and the reason; no query per course
    (the stage comes from the flags' in-process snapshot)."""
    rows = []
    for course in rollout.known_courses():
        course_org = stats.org_of_course(course)
        if (org and course_org != org) or (search and search.lower() not in course.lower()):
            continue
        decision = rollout.stage_of(course)
        if stage and decision.stage != stage:
            continue
        rows.append({"course": course, "org": course_org, "stage": decision.stage, "reason": decision.reason})
    return rows


def readiness_of(course: str, stage: str):
    """Readiness as the stage guard reads it (learner-visible differences; record ones per setting)."""
    return check(course, stage)


def admin_submissions_url(course: str) -> str:
    return f"{reverse('admin:xqueue_bridge_submission_changelist')}?{urlencode({'course': course})}"


def admin_deliveries_url(course: str, status: str | None = None) -> str:
    query = {"course": course, **({"status__exact": status} if status else {})}
    return f"{reverse('admin:xqueue_bridge_delivery_changelist')}?{urlencode(query)}"


def admin_comparisons_url(course: str) -> str:
    return f"{reverse('admin:xqueue_bridge_shadow_comparison_changelist')}?{urlencode({'course_id': course})}"


def detail(course: str) -> dict:
    """One course: stage, reason, readiness with its reasons, its history and where the admin shows it."""
    decision = rollout.stage_of(course)
    return {
        "course": course,
        "org": stats.org_of_course(course),
        "stage": decision.stage,
        "reason": decision.reason,
        "readiness": readiness_of(course, decision.stage),
        "history": rollout.history(course, limit=50),
        "admin_url": admin_submissions_url(course),
    }
