"""Immutable value objects of course flag decisions."""

from __future__ import annotations

import datetime
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
