"""
Named errors of the ``toggles`` app. Each says what was wrong and what is expected.

They subclass ``ValueError``: every one of them is bad input, refused before anything is written.
"""

from __future__ import annotations


class TogglesError(ValueError):
    """Base class of the bad-input errors of course flags and their overrides."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidCourseKey(TogglesError):
    """A course key that opaque-keys cannot parse."""


class InvalidOrg(TogglesError):
    """An organisation name with characters a course key's org cannot hold."""


class UnknownFlag(TogglesError):
    """A flag name that no ``CourseFlag`` defines."""


class InvalidOverrideValue(TogglesError):
    """An override value other than on, off or unset."""


class InvalidPercentage(TogglesError):
    """A percentage that is not a number from 0 to 100 with at most two decimals."""


class MissingReason(TogglesError):
    """A change without a reason (every change to a flag says why)."""


class InvalidReason(TogglesError):
    """A reason too long to be kept."""


class InvalidChangedBy(TogglesError):
    """A change without the name of who made it, or with a name no account could have."""


class AppendOnly(TogglesError):
    """An attempt to edit or delete a history row: add a new row instead (the latest row wins)."""
