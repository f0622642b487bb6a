"""
Checks of everything a flag change is made of. Each returns the clean value or raises a named error
that says what was wrong and what is expected; nothing is written before all of them pass.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from toggles.exceptions import (
    InvalidChangedBy,
    InvalidOverrideValue,
    InvalidPercentage,
    InvalidReason,
    MissingReason,
)
from toggles.keys import course_ref, validate_org
from toggles.registry import get_flag

MAX_REASON = 255
MAX_CHANGED_BY = 150
OVERRIDE_VALUES = ("on", "off", "unset")


def validate_flag_name(name: str) -> str:
    """Return ``name`` if a :class:`~toggles.flags.CourseFlag` has it, else raise ``UnknownFlag``."""
    return get_flag(name).name


def validate_course_key(course_key) -> str:
    """Return the canonical string of a course key, or raise ``InvalidCourseKey``."""
    return course_ref(course_key).key


def validate_org_name(org: str) -> str:
    return validate_org(org)


def validate_override_value(value: str) -> str:
    if value not in OVERRIDE_VALUES:
        raise InvalidOverrideValue(f"Override value {value!r} is not one of {', '.join(OVERRIDE_VALUES)}.")
    return value


def validate_percentage(percent) -> Decimal:
    """Return ``percent`` as a Decimal from 0 to 100 with at most two decimals, or raise InvalidPercentage."""
    expected = "expected a number from 0 to 100 with at most two decimals, such as 20 or 12.5"
    if isinstance(percent, bool) or percent is None:
        raise InvalidPercentage(f"Percentage {percent!r} is not a number; {expected}.")
    try:
        value = Decimal(str(percent).strip().rstrip("%"))
    except (InvalidOperation, ValueError):
        raise InvalidPercentage(f"Percentage {percent!r} is not a number; {expected}.") from None
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        raise InvalidPercentage(f"Percentage {percent!r} is out of range; {expected}.")
    if value != value.quantize(Decimal("0.01")):
        raise InvalidPercentage(f"Percentage {percent!r} has more than two decimals; {expected}.")
    return value.quantize(Decimal("0.01"))


def validate_reason(reason: str) -> str:
    """Return the stripped reason; an empty or missing one raises MissingReason, a long one InvalidReason."""
    if reason is None or not str(reason).strip():
        raise MissingReason(
            "A reason is required: say why the change is made, e.g. 'pilot with the physics team'."
        )
    reason = " ".join(str(reason).split())
    if len(reason) > MAX_REASON:
        raise InvalidReason(f"The reason is {len(reason)} characters long; keep it to {MAX_REASON} or fewer.")
    return reason


def validate_changed_by(changed_by: str) -> str:
    if changed_by is None or not str(changed_by).strip():
        raise InvalidChangedBy("Say who makes the change (a username or the name of a service).")
    changed_by = str(changed_by).strip()
    if len(changed_by) > MAX_CHANGED_BY:
        raise InvalidChangedBy(
            f"changed_by is {len(changed_by)} characters long; a username has at most {MAX_CHANGED_BY}."
        )
    return changed_by
