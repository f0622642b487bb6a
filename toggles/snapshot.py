"""
What a process keeps of a flag's overrides and percentage (``toggles.loading`` reads it from the database).

A snapshot holds the decisions themselves (built once per row), so a warm decision is a couple of
dictionary lookups. A stamp says which state of the database a process has loaded: the newest id and
the number of rows of each history table, and the waffle flags' rows.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import attr

from toggles.buckets import threshold
from toggles.data import FlagDecision


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


def apply_rows(decisions: dict, scope: str, rows, key_field: str) -> None:
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
