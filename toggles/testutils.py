"""
Test helpers for code that reads course flags.

``override_course_flag`` forces a flag's answer in this process for the duration of a block, a test
function or a test class, without writing history rows::

    with override_course_flag(EVENT_DELIVERY, active=True, course="course-v1:edX+DemoX+2026"):
        ...

    @override_course_flag(EVENT_DELIVERY, active=True)  # every course
    def test_event_path(): ...

A course-level force wins over an org-level one, which wins over a flag-wide one; forced decisions win
over everything stored. Other processes do not see them: to test across processes, write real overrides
through ``toggles.api``.
"""

from __future__ import annotations

from django.test.utils import TestContextDecorator

from toggles import cache
from toggles.data import FlagDecision
from toggles.flags import CourseFlag, get_flag
from toggles.keys import course_ref, validate_org

__all__ = ["override_course_flag", "reset_course_flags"]

_MISSING = object()


class override_course_flag(TestContextDecorator):  # noqa: N801  (named like waffle.testutils.override_flag)
    """Force ``flag`` to ``active`` for one course, one org, or (with neither) every course."""

    def __init__(self, flag: CourseFlag | str, active: bool, *, course=None, org: str | None = None):
        super().__init__()
        if course is not None and org is not None:
            raise TypeError("override_course_flag takes a course or an org, not both.")
        name = flag.name if isinstance(flag, CourseFlag) else get_flag(flag).name
        if course is not None:
            self.key = (name, "course", course_ref(course).key)
            source = "course"
        elif org is not None:
            self.key = (name, "org", validate_org(org))
            source = "org"
        else:
            self.key = (name, "global", "")
            source = "global"
        self.decision = FlagDecision(bool(active), source, "forced by override_course_flag")
        self.previous = _MISSING

    def enable(self) -> None:
        self.previous = cache.store.forced.get(self.key, _MISSING)
        cache.store.forced[self.key] = self.decision

    def disable(self) -> None:
        if self.previous is _MISSING:
            cache.store.forced.pop(self.key, None)
        else:
            cache.store.forced[self.key] = self.previous


def reset_course_flags() -> None:
    """Drop this process's snapshots and forced decisions (for a test that changed the database behind it)."""
    cache.store.forced.clear()
    cache.clear()
