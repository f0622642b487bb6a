"""
Checking the arguments of the bridge's management commands: a bad one is a one-line error, exit code 2.

Exit code 2 is what argparse gives a malformed command line; a value that parses but means nothing (a
course key that is none, a date that is no date) is refused the same way, before anything is read or
written, never with a traceback.
"""

from __future__ import annotations

from django.core.management.base import CommandError

from toggles.exceptions import TogglesError
from toggles.keys import course_ref, validate_org

BAD_ARGUMENT = 2


def bad_argument(message: str) -> CommandError:
    """A CommandError for bad input: one line, exit code 2."""
    return CommandError(" ".join(str(message).split()), returncode=BAD_ARGUMENT)


def course_key(text: str | None, option: str = "--course") -> str | None:
    """``text`` as a canonical course key (None stays None), or a bad-argument error naming ``option``."""
    if text is None:
        return None
    try:
        return course_ref(text).key
    except TogglesError as exc:
        raise bad_argument(f"{option}: {exc.message}")


def org_name(text: str | None, option: str = "--org") -> str | None:
    """``text`` as an org (None stays None), or a bad-argument error naming ``option``."""
    if text is None:
        return None
    try:
        return validate_org(text)
    except TogglesError as exc:
        raise bad_argument(f"{option}: {exc.message}")


def parsed(text: str | None, parse, option: str):
    """``parse(text)`` (None stays None), or a bad-argument error naming ``option`` when it raises ValueError."""
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError as exc:
        raise bad_argument(f"{option}: {exc}")
