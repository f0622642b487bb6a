"""Immutable value objects of course flag decisions."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Literal

import attr

Source = Literal["course", "org", "percentage", "global"]


@attr.frozen
class FlagDecision:
    """Whether a course flag is on for a course, which layer decided it, and why, in an operator's words."""

    enabled: bool
    source: Source
    reason: str


@attr.frozen
class ChangeEntry:
    """One row of a flag's history, whichever table it is in."""

    id: int
    flag: str
    scope: Literal["course", "org", "percentage"]
    target: str  # the course key, the org, or "" for a percentage
    value: str  # "on", "off", "unset", or a percentage such as "20%"
    changed_by: str
    changed_at: datetime.datetime
    reason: str


@attr.frozen
class FlagSummary:
    """A flag at a glance: its percentage, its global default, and how many overrides are in effect."""

    flag: str
    percent: Decimal | None  # None without a percentage layer
    global_default: bool
    courses_on: int
    courses_off: int
    orgs_on: int
    orgs_off: int
