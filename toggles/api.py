"""
The public Python API of course flags: change them (each change is a new history row), read their state
and history, and check the input of a change before writing it.

Every argument is checked before anything is written; a bad one raises a ``toggles.exceptions`` error
(all of them subclass ``TogglesError``, exported here). A change is in effect in this process as soon as
its transaction commits, and in every other process within ``TOGGLES["CACHE_TTL"]`` seconds.
"""

from __future__ import annotations

import datetime
import heapq
import itertools
from collections.abc import Iterable
from decimal import Decimal

from django.db import router, transaction
from django.utils import timezone

from toggles import loading
from toggles.cache import store
from toggles.data import ChangeEntry, FlagDecision, FlagSummary
from toggles.exceptions import TogglesError
from toggles.flags import CourseFlag, get_flag
from toggles.keys import CourseRef, course_ref, looks_like_course_key, validate_org
from toggles.models import CourseOverride, OrgOverride, Percentage
from toggles.proposals import ChangeRefused, ProposedChange, enabled_after, register_guard
from toggles.registry import course_flag_names
from toggles.snapshot import format_percent
from toggles.validation import (
    validate_changed_by,
    validate_override_value,
    validate_percentage,
    validate_reason,
)

__all__ = [
    # Flags and what they decide.
    "CourseFlag",
    "FlagDecision",
    "FlagSummary",
    "course_flag_names",
    "get_flag",
    "summary",
    # Changes and history.
    "ChangeEntry",
    "current_percentage",
        "history",
    "on_for_everyone",
    "org_overridden",
    "overridden_courses",
    "set_course_override",
    "set_org_override",
    "set_percentage",
    # Checks of a change's input (each returns the clean value or raises a TogglesError).
    "CourseRef",
    "TogglesError",
    "course_ref",
    "looks_like_course_key",
    "validate_changed_by",
    "validate_org",
    "validate_percentage",
    "validate_reason",
    # Guards: what a change would do, and a hook that may refuse it (the admin's forms obey it too).
    "ChangeRefused",
    "ProposedChange",
    "enabled_after",
    "register_guard",
    # Display.
    "format_percent",
]


def set_course_override(
    flag: CourseFlag | str,
    course_key,
    value: str,
    *,
    reason: str,
    changed_by: str,
    user=None,
    changed_at: datetime.datetime | None = None,
) -> CourseOverride:
    """Force ``flag`` on or off for one course (``value`` "on" / "off"), or remove that ("unset")."""
    row = CourseOverride(
        flag_name=_flag_name(flag),
        course_id=course_ref(course_key).key,
        value=validate_override_value(value),
        **_who(reason, changed_by, user, changed_at),
    )
    with transaction.atomic(using=_db(CourseOverride)):
        row.save()
    return row


def set_org_override(
    flag: CourseFlag | str,
    org: str,
    value: str,
    *,
    reason: str,
    changed_by: str,
    user=None,
    changed_at: datetime.datetime | None = None,
) -> OrgOverride:
    """Force ``flag`` on or off for the courses of ``org`` without a course override, or remove that."""
    row = OrgOverride(
        flag_name=_flag_name(flag),
        org=validate_org(org),
        value=validate_override_value(value),
        **_who(reason, changed_by, user, changed_at),
    )
    with transaction.atomic(using=_db(OrgOverride)):
        row.save()
    return row


def set_percentage(
    flag: CourseFlag | str,
    percent,
    *,
    reason: str,
    changed_by: str,
    user=None,
    changed_at: datetime.datetime | None = None,
) -> Percentage:
    """Turn ``flag`` on for ``percent`` % of the courses no override decides (0 turns the layer off)."""
    row = Percentage(
        flag_name=_flag_name(flag),
        percent=validate_percentage(percent),
        **_who(reason, changed_by, user, changed_at),
    )
    with transaction.atomic(using=_db(Percentage)):
        row.save()
    return row


def current_percentage(flag: CourseFlag | str) -> Decimal:
    """The flag's percentage as last written (read from the database, not the cache); 0 without one."""
    return loading.latest_percentage(_flag_name(flag)) or Decimal(0)


def on_for_everyone(flag: CourseFlag | str) -> bool:
    """Whether the flag's global layer (its waffle flag's "Everyone") is on, read from the database now."""
    return loading.read_everyone(_flag_name(flag))


def overridden_courses(flags: Iterable[CourseFlag | str]) -> set[str]:
    """The course ids of every course override row of ``flags`` (``unset`` ones too), as they are stored."""
    rows = CourseOverride.objects.filter(flag_name__in=[_flag_name(flag) for flag in flags])
    return set(rows.order_by().values_list("course_id", flat=True).distinct())


def org_overridden(org: str, flags: Iterable[CourseFlag | str]) -> bool:
    """Whether ``org`` has an override row of any of ``flags`` (``unset`` ones too)."""
    return OrgOverride.objects.filter(org=org, flag_name__in=[_flag_name(flag) for flag in flags]).exists()


def summary(flag: CourseFlag | str) -> FlagSummary:
    """The flag at a glance, as every decision in this process sees it (from this process's cache)."""
    name = _flag_name(flag)
    snapshot = store.get(name)
    courses_on = sum(decision.enabled for decision in snapshot.courses.values())
    orgs_on = sum(decision.enabled for decision in snapshot.orgs.values())
    return FlagSummary(
        flag=name,
        percent=snapshot.percent,
        global_default=snapshot.default.enabled,
        courses_on=courses_on,
        courses_off=len(snapshot.courses) - courses_on,
        orgs_on=orgs_on,
        orgs_off=len(snapshot.orgs) - orgs_on,
    )


def history(
    *,
    flag: CourseFlag | str | None = None,
    course=None,
    org: str | None = None,
    limit: int | None = None,
) -> list[ChangeEntry]:
    """
    Changes, newest first. With ``course``: that course's overrides and its org's. With ``org``: that
    org's overrides. With neither: every change, percentages included. ``flag`` narrows to one flag.
    """
    flag_name = _flag_name(flag) if flag is not None else None
    querysets = []
    if course is not None:
        ref = course_ref(course)
        querysets.append(("course", "course_id", CourseOverride.objects.filter(course_id=ref.key)))
        querysets.append(("org", "org", OrgOverride.objects.filter(org=ref.org)))
    elif org is not None:
        querysets.append(("org", "org", OrgOverride.objects.filter(org=validate_org(org))))
    else:
        querysets.append(("course", "course_id", CourseOverride.objects.all()))
        querysets.append(("org", "org", OrgOverride.objects.all()))
        querysets.append(("percentage", None, Percentage.objects.all()))
    streams = []
    for scope, key_field, queryset in querysets:
        if flag_name is not None:
            queryset = queryset.filter(flag_name=flag_name)
        queryset = queryset.order_by("-changed_at", "-id")
        if limit is not None:
            queryset = queryset[:limit]
        streams.append(_entries(scope, key_field, queryset))
    merged = heapq.merge(*streams, key=lambda entry: (entry.changed_at, entry.id), reverse=True)
    return list(itertools.islice(merged, limit))


def _entries(scope: str, key_field: str | None, queryset):
    for row in queryset.iterator():
        yield ChangeEntry(
            id=row.pk,
            flag=row.flag_name,
            scope=scope,
            target=getattr(row, key_field) if key_field else "",
            value=row.value if key_field else f"{format_percent(row.percent)}%",
            changed_by=row.changed_by,
            changed_at=row.changed_at,
            reason=row.reason,
        )


def _flag_name(flag: CourseFlag | str) -> str:
    return flag.name if isinstance(flag, CourseFlag) else get_flag(flag).name


def _who(reason: str, changed_by: str, user, changed_at: datetime.datetime | None) -> dict:
    return {
        "reason": validate_reason(reason),
        "changed_by": validate_changed_by(changed_by),
        "changed_by_user": user if user is not None and user.is_authenticated else None,
        "changed_at": changed_at or timezone.now(),
    }


def _db(model) -> str:
    return router.db_for_write(model)
