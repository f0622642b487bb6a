"""
How a process reads the state of course flags from the database into snapshots (``toggles.snapshot``).

History is only ever added to, so after a change a process reads just the rows newer than its stamp; when
the counts show that a row arrived out of order (a transaction that took an id earlier committed later) or
went away, it reloads. ``TogglesConfig.ready`` hands this module to the cache (``toggles.cache``), which
decides when to read.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import router
from django.db.models import Count, Max
from waffle import get_waffle_flag_model

from toggles.data import FlagDecision
from toggles.models import CourseOverride, OrgOverride, Percentage
from toggles.snapshot import FlagSnapshot, Stamp, apply_rows, build

ROW_FIELDS = ("id", "flag_name", "value", "changed_by", "changed_at", "reason")


def database() -> str:
    """The database alias history rows are written to (the one whose transactions hold a change)."""
    return router.db_for_write(CourseOverride)


def read_stamp(flag_names: set[str]) -> Stamp:
    """Read the stamp of the current state (four small queries)."""
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
    rows = get_waffle_flag_model().objects.filter(name=flag_name)
    return rows.values_list("everyone", flat=True).first() is True


def load_snapshot(flag_name: str, everyone: bool) -> FlagSnapshot:
    """Load the overrides and the percentage in effect for ``flag_name`` (three queries)."""
    courses: dict[str, FlagDecision] = {}
    orgs: dict[str, FlagDecision] = {}
    apply_rows(courses, "course", _latest_rows(CourseOverride, flag_name, "course_id"), "course_id")
    apply_rows(orgs, "org", _latest_rows(OrgOverride, flag_name, "org"), "org")
    return build(flag_name, courses, orgs, latest_percentage(flag_name), everyone)


def update_snapshots(snapshots: dict[str, FlagSnapshot], old: Stamp, new: Stamp) -> dict | None:
    """
    Bring ``snapshots`` (loaded at ``old``) to ``new`` by reading only what changed, or return None when
    they must be loaded again (rows arrived out of order, or went away).
    """
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
                apply_rows(target, scope, picked, key_field)
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
    latest = Percentage.objects.filter(flag_name=flag_name).order_by("-id").values("percent").first()
    return latest["percent"] if latest else None
