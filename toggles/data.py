"""Immutable value objects of course flag decisions."""

from __future__ import annotations

from typing import Literal

import attr

Source = Literal["course", "org", "percentage", "global"]


@attr.frozen
class FlagDecision:
    """Whether a course flag is on for a course, which layer decided it, and why, in an operator's words."""

    enabled: bool
    source: Source
    reason: str
