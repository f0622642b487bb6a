"""
What a process keeps of a flag's overrides and percentage, and how it reads them from the database.

A snapshot holds the decisions themselves (built once per load), so a warm decision is a couple of
dictionary lookups. A stamp says which state of the database a process has loaded: the newest row of
each history table (rows are only ever added) and the waffle flags' rows.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import attr
from django.db.models import Max

from toggles.buckets import threshold
from toggles.data import FlagDecision


@attr.frozen
class Stamp:
    """The state of the database a snapshot was loaded from; a different stamp means something changed."""

    course_override: int | None
    org_override: int | None
    percentage: int | None
    waffle: tuple  # (name, everyone, modified) of the waffle flags among ``names``
    names: frozenset[str]  # the course flags the stamp covers

    def everyone(self, flag_name: str) -> bool:
        """The global layer: the waffle flag's "Everyone" (True → on; unset, False or no flag → off)."""
        return any(name == flag_name and everyone is True for name, everyone, _ in self.waffle)


@attr.frozen
class FlagSnapshot:
    """A flag's state in one process: decisions by course and by org, the percentage, the global default."""

    name: str
    courses: dict[str, FlagDecision]
    orgs: dict[str, FlagDecision]
    percent: Decimal | None
    threshold: int  # buckets (of 10,000) that are in; 0 when there is no percentage layer
    in_bucket: FlagDecision | None
    default: FlagDecision  # the global layer, for courses outside the bucket


def read_stamp(flag_names: set[str]) -> Stamp:
    """Read the stamp of the current state (four small queries)."""
    from waffle import get_waffle_flag_model

    from toggles.models import CourseOverride, OrgOverride, Percentage

    waffle = (
        get_waffle_flag_model()
        .objects.filter(name__in=sorted(flag_names))
        .order_by("name")
        .values_list("name", "everyone", "modified")
    )
    return Stamp(
        course_override=CourseOverride.objects.order_by().aggregate(last=Max("id"))["last"],
        org_override=OrgOverride.objects.order_by().aggregate(last=Max("id"))["last"],
        percentage=Percentage.objects.order_by().aggregate(last=Max("id"))["last"],
        waffle=tuple(waffle),
        names=frozenset(flag_names),
    )


def read_everyone(flag_name: str) -> bool:
    """The global layer of one flag, read now (one query)."""
    from waffle import get_waffle_flag_model

    rows = get_waffle_flag_model().objects.filter(name=flag_name)
    return rows.values_list("everyone", flat=True).first() is True


def load_snapshot(flag_name: str, everyone: bool) -> FlagSnapshot:
    """Load the overrides and the percentage in effect for ``flag_name`` (three queries)."""
    from toggles.models import CourseOverride, OrgOverride, Percentage

    courses = {
        row["course_id"]: _override_decision("course", row)
        for row in _latest_rows(CourseOverride, flag_name, "course_id")
        if row["value"] != "unset"
    }
    orgs = {
        row["org"]: _override_decision("org", row)
        for row in _latest_rows(OrgOverride, flag_name, "org")
        if row["value"] != "unset"
    }
    latest = Percentage.objects.filter(flag_name=flag_name).order_by("-id").values("percent").first()
    percent = latest["percent"] if latest else None
    buckets_in = threshold(percent) if percent else 0
    in_bucket = None
    if everyone:
        default = FlagDecision(True, "global", "global default (on for everyone)")
    else:
        default = FlagDecision(False, "global", "global default")
    if buckets_in:
        shown = format_percent(percent)
        in_bucket = FlagDecision(True, "percentage", f"in the {shown}% bucket")
        if not everyone:
            default = FlagDecision(False, "global", f"global default (outside the {shown}% bucket)")
    return FlagSnapshot(
        name=flag_name,
        courses=courses,
        orgs=orgs,
        percent=percent if buckets_in else None,
        threshold=buckets_in,
        in_bucket=in_bucket,
        default=default,
    )


def _latest_rows(model, flag_name: str, key_field: str):
    """The newest row for each course (or org) of a flag: the one in effect."""
    newest = model.objects.filter(flag_name=flag_name).order_by().values(key_field).annotate(last=Max("id"))
    rows = model.objects.filter(id__in=newest.values("last"))
    return rows.values(key_field, "value", "changed_by", "changed_at", "reason")


def _override_decision(scope: str, row: dict) -> FlagDecision:
    return FlagDecision(
        enabled=row["value"] == "on",
        source=scope,
        reason=override_reason(scope, row["changed_by"], row["changed_at"], row["reason"]),
    )


def override_reason(scope: str, changed_by: str, changed_at: datetime.datetime, reason: str) -> str:
    """``course override by ops-alice 2026-11-25: pilot``."""
    if changed_at.tzinfo is not None:
        changed_at = changed_at.astimezone(datetime.UTC)
    day = changed_at.date().isoformat()
    return f"{scope} override by {changed_by} {day}: {reason}"


def format_percent(percent: Decimal) -> str:
    """``20`` for 20.00, ``12.5`` for 12.50."""
    text = format(percent, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
