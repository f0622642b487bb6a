"""
What a process keeps of a flag's overrides and percentage, and how it reads them from the database.

A snapshot holds the decisions themselves (built once per row), so a warm decision is a couple of
dictionary lookups. A stamp says which state of the database a process has loaded: the newest id and
the number of rows of each history table, and the waffle flags' rows. History is only ever added to, so
after a change a process reads just the rows newer than its stamp; when the counts show that a row
arrived out of order (a transaction that took an id earlier committed later) or went away, it reloads.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import attr
from django.db.models import Count, Max

from toggles.buckets import threshold
from toggles.data import FlagDecision

ROW_FIELDS = ("id", "flag_name", "value", "changed_by", "changed_at", "reason")


@attr.frozen
class Stamp:
    """The state of the database a snapshot was loaded from; a different stamp means something changed."""

    course_override: tuple[int | None, int]  # (newest id, rows)
    org_override: tuple[int | None, int]
    percentage: tuple[int | None, int]
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
    percent: Decimal | None  # None when there is no percentage layer (no row, or 0)
    everyone: bool
    threshold: int  # buckets (of 10,000) that are in; 0 when there is no percentage layer
    in_bucket: FlagDecision | None
    default: FlagDecision  # the global layer, for courses outside the bucket


def build(name: str, courses: dict, orgs: dict, percent: Decimal | None, everyone: bool) -> FlagSnapshot:
    """A snapshot from its overrides, its percentage and its waffle flag's "Everyone"."""
    buckets_in = threshold(percent) if percent else 0
    in_bucket = None
    default = FlagDecision(True, "global", "global default (on for everyone)") if everyone else None
    if buckets_in:
        shown = format_percent(percent)
        in_bucket = FlagDecision(True, "percentage", f"in the {shown}% bucket")
        default = default or FlagDecision(False, "global", f"global default (outside the {shown}% bucket)")
    return FlagSnapshot(
        name=name,
        courses=courses,
        orgs=orgs,
        percent=percent if buckets_in else None,
        everyone=everyone,
        threshold=buckets_in,
        in_bucket=in_bucket,
        default=default or FlagDecision(False, "global", "global default"),
    )


def read_stamp(flag_names: set[str]) -> Stamp:
    """Read the stamp of the current state (four small queries)."""
    from waffle import get_waffle_flag_model

    from toggles.models import CourseOverride, OrgOverride, Percentage

    def newest_and_count(model) -> tuple[int | None, int]:
        totals = model.objects.order_by().aggregate(newest=Max("id"), rows=Count("id"))
        return totals["newest"], totals["rows"]

    waffle = (
        get_waffle_flag_model()
        .objects.filter(name__in=sorted(flag_names))
        .order_by("name")
        .values_list("name", "everyone", "modified")
    )
    return Stamp(
        course_override=newest_and_count(CourseOverride),
        org_override=newest_and_count(OrgOverride),
        percentage=newest_and_count(Percentage),
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
    from toggles.models import CourseOverride, OrgOverride

    courses: dict[str, FlagDecision] = {}
    orgs: dict[str, FlagDecision] = {}
    _apply(courses, "course", _latest_rows(CourseOverride, flag_name, "course_id"), "course_id")
    _apply(orgs, "org", _latest_rows(OrgOverride, flag_name, "org"), "org")
    return build(flag_name, courses, orgs, latest_percentage(flag_name), everyone)


def update_snapshots(snapshots: dict[str, FlagSnapshot], old: Stamp, new: Stamp) -> dict | None:
    """
    Bring ``snapshots`` (loaded at ``old``) to ``new`` by reading only what changed, or return None when
    they must be loaded again (rows arrived out of order, or went away).
    """
    from toggles.models import CourseOverride, OrgOverride

    names = list(snapshots)
    changed: dict[str, dict] = {name: {} for name in names}
    for model, scope, key_field in ((CourseOverride, "course", "course_id"), (OrgOverride, "org", "org")):
        before, after = getattr(old, f"{scope}_override"), getattr(new, f"{scope}_override")
        if before == after:
            continue
        rows = _newer_rows(model, key_field, names, before[0], after[0])
        if rows is None or before[1] + rows[1] != after[1]:
            return None
        for name in names:
            picked = [row for row in rows[0] if row["flag_name"] == name]
            if picked:
                target = dict(getattr(snapshots[name], f"{scope}s"))
                _apply(target, scope, picked, key_field)
                changed[name][f"{scope}s"] = target
    percentages_changed = old.percentage != new.percentage
    updated = {}
    for name, snapshot in snapshots.items():
        everyone = new.everyone(name)
        if not changed[name] and not percentages_changed and everyone == snapshot.everyone:
            updated[name] = snapshot
            continue
        updated[name] = build(
            name,
            changed[name].get("courses", snapshot.courses),
            changed[name].get("orgs", snapshot.orgs),
            latest_percentage(name) if percentages_changed else snapshot.percent,
            everyone,
        )
    return updated


def _latest_rows(model, flag_name: str, key_field: str):
    """The newest row for each course (or org) of a flag: the one in effect."""
    newest = model.objects.filter(flag_name=flag_name).order_by().values(key_field).annotate(last=Max("id"))
    rows = model.objects.filter(id__in=newest.values("last"))
    return rows.values(key_field, *ROW_FIELDS)


def _newer_rows(model, key_field: str, names: list[str], since: int | None, until: int | None):
    """Rows of ``names`` with ids in (since, until], in id order, and how many rows of any flag there are."""
    if until is None or (since is not None and until < since):
        return None
    rows = model.objects.filter(id__lte=until).order_by("id")
    if since is not None:
        rows = rows.filter(id__gt=since)
    fetched = list(rows.values(key_field, *ROW_FIELDS))
    return [row for row in fetched if row["flag_name"] in names], len(fetched)


def latest_percentage(flag_name: str) -> Decimal | None:
    from toggles.models import Percentage

    latest = Percentage.objects.filter(flag_name=flag_name).order_by("-id").values("percent").first()
    return latest["percent"] if latest else None


def _apply(decisions: dict, scope: str, rows, key_field: str) -> None:
    """Apply history rows, oldest first, to ``decisions`` (course or org → decision): the latest wins."""
    for row in rows:
        if row["value"] == "unset":
            decisions.pop(row[key_field], None)
        else:
            decisions[row[key_field]] = FlagDecision(
                enabled=row["value"] == "on",
                source=scope,
                reason=override_reason(scope, row["changed_by"], row["changed_at"], row["reason"]),
            )


def override_reason(scope: str, changed_by: str, changed_at: datetime.datetime, reason: str) -> str:
    """``course override by ops-alice 2026-11-25: pilot``."""
    if changed_at.tzinfo is not None:
        changed_at = changed_at.astimezone(datetime.UTC)
    return f"{scope} override by {changed_by} {changed_at.date().isoformat()}: {reason}"


def format_percent(percent: Decimal) -> str:
    """``20`` for 20.00, ``12.5`` for 12.50."""
    text = format(percent, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
