"""
Parsing of the course keys and organisation names that course flags are scoped by.

Parsing a course key string with opaque-keys costs tens of microseconds, more than a whole warm flag
decision, so parsed strings are remembered (a bounded LRU; a key's meaning never changes).
"""

from __future__ import annotations

import re
from functools import lru_cache

import attr
from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey

from toggles.exceptions import InvalidCourseKey, InvalidOrg

# What an org can hold in a course key (opaque-keys' id characters), less ":" so that an org is never
# mistaken for a key; at most 255 characters like the columns that keep it.
ORG_PATTERN = re.compile(r"^[\w.~-]{1,255}$")
# A target string that has any of these is meant as a course key, not an org.
_KEY_MARKERS = (":", "+", "/")


@attr.frozen
class CourseRef:
    """A course key in its canonical string form, and its org: all a course flag needs to decide."""

    key: str
    org: str


def course_ref(course_key: CourseKey | CourseRef | str) -> CourseRef:
    """Return the :class:`CourseRef` of ``course_key``; a bad key raises :class:`InvalidCourseKey`."""
    if isinstance(course_key, CourseRef):
        return course_key
    if isinstance(course_key, CourseKey):
        return CourseRef(key=str(course_key), org=course_key.org)
    if isinstance(course_key, str):
        return _parse(course_key)
    raise InvalidCourseKey(
        f"Expected a course key (a CourseKey or a string such as 'course-v1:edX+DemoX+2026'), "
        f"got {type(course_key).__name__} {course_key!r}."
    )


@lru_cache(maxsize=65536)
def _parse(text: str) -> CourseRef:
    try:
        key = CourseKey.from_string(text.strip())
    except InvalidKeyError:
        raise InvalidCourseKey(
            f"{text!r} is not a course key; expected one such as 'course-v1:edX+DemoX+2026'."
        ) from None
    return CourseRef(key=str(key), org=key.org)


def validate_org(org: str) -> str:
    """Return ``org`` if it can be a course key's org, else raise :class:`InvalidOrg`."""
    if not isinstance(org, str) or not ORG_PATTERN.match(org):
        raise InvalidOrg(
            f"{org!r} is not an organisation name; expected the org part of a course key, such as 'edX' "
            "(letters, digits, '.', '_', '-', '~')."
        )
    return org


def looks_like_course_key(target: str) -> bool:
    """Whether ``target`` is meant as a course key rather than an org (it has ':', '+' or '/')."""
    return any(marker in target for marker in _KEY_MARKERS)
