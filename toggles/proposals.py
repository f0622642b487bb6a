"""
A proposed change of course flags, what it would decide, and the guards that may refuse it.

A ``ProposedChange`` is one write as the API or the admin would make it (a course or org override of
one or more flags, or one flag's percentage). ``enabled_after`` says what a flag would decide for a
course once the change is written, layer by layer as ``CourseFlag.evaluate`` does. An application that
gives its flags a meaning (such as a rollout stage) registers a guard with ``register_guard``; every
writer that honours guards (the admin's add forms; an application's own API) calls ``check`` first and
refuses the change with the guard's reasons. Guards only read.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Literal

import attr

from toggles.buckets import threshold
from toggles.cache import store
from toggles.data import FlagDecision
from toggles.exceptions import TogglesError
from toggles.flags import get_flag
from toggles.keys import course_ref


class ChangeRefused(TogglesError):
    """A guard refused a change; ``reasons`` says why, and the message what lets it through."""

    def __init__(self, message: str, reasons: tuple[str, ...] = ()):
        super().__init__(message)
        self.reasons = reasons


@attr.frozen
class ProposedChange:
    """A write of flag values at one layer: {flag name: "on" | "off" | "unset"}, or a percentage of one flag."""

    scope: Literal["course", "org", "percentage"]
    target: str  # the canonical course key, the org, or "" for a percentage
    values: dict = attr.field(factory=dict)  # {flag name: "on"|"off"|"unset"} or {flag name: Decimal percent}
    reason: str = ""
    changed_by: str = ""
    force: bool = False  # the writer was told to go past a guard's refusal (the reason says why)
    allow_unseen: bool = False  # the writer was told that a target nobody has seen yet is meant


def enabled_after(flag_name: str, course_key: str, change: ProposedChange) -> bool:
    """Whether ``flag_name`` would be on for ``course_key`` once ``change`` is written."""
    ref = course_ref(course_key)
    snapshot = store.get(flag_name)
    value = change.values.get(flag_name)
    if value is None:
        return get_flag(flag_name).evaluate(ref).enabled
    course_level: FlagDecision | None = snapshot.courses.get(ref.key)
    if change.scope == "course" and change.target == ref.key:
        if value != "unset":
            return value == "on"
        course_level = None
    if course_level is not None:
        return course_level.enabled
    org_level = snapshot.orgs.get(ref.org)
    if change.scope == "org" and change.target == ref.org:
        if value != "unset":
            return value == "on"
        org_level = None
    if org_level is not None:
        return org_level.enabled
    buckets_in = snapshot.threshold
    if change.scope == "percentage":
        buckets_in = threshold(Decimal(value)) if value else 0
    if buckets_in and get_flag(flag_name).bucket(ref.key) < buckets_in:
        return True
    return snapshot.default.enabled


Guard = Callable[[ProposedChange], "Callable[[], object] | None"]
_guards: list[Guard] = []


def register_guard(guard: Guard) -> None:
    """
    Add ``guard(change)``, which raises ChangeRefused to refuse a change, or returns None or a callable the
    writer calls inside the transaction that writes the change (e.g. to record a forced change).
    """
    if guard not in _guards:
        _guards.append(guard)


def check(change: ProposedChange) -> list[Callable[[], object]]:
    """Run every registered guard on ``change``; the first refusal is raised. Returns the guards' on-write calls."""
    return [on_write for guard in list(_guards) if (on_write := guard(change)) is not None]
