"""
What an ``lms_callback_url`` means: the course, learner, problem and dispatch it names.

The LMS builds ``{root}/courses/{course_id}/xqueue/{userid}/{mod_id}/{dispatch}``, with ``mod_id`` the
usage key with its slashes quoted (``;_`` for ``/``, ``;;`` for ``;``). Everything is checked when the LMS
submits, so a bad URL is refused then rather than discovered when the result is delivered.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey

from xqueue_bridge.data import DISPATCHES, CallbackTarget
from xqueue_bridge.errors import CallbackNotAllowed
from xqueue_bridge.keys import unquote_slashes
from xqueue_bridge.text import excerpt
from xqueue_bridge.transports.origins import EXPECTED_URL, check_allowed

MAX_KEY_LENGTH = 255  # course ids and usage keys: the columns that hold them

_PATH = re.compile(
    r"^.*?/courses/(?P<course_id>.+?)/xqueue/(?P<userid>[^/]+)/(?P<mod_id>[^/]+)/(?P<dispatch>[^/]+)/?$"
)
# Column sizes of Submission: a longer value is refused here rather than failing in the database.
MAX_USER_ID_LENGTH = 64


def parse_callback_url(url: str) -> CallbackTarget:
    """Parse and check ``url``; raise CallbackNotAllowed saying what is wrong and what is expected."""
    if not isinstance(url, str) or not url:
        raise CallbackNotAllowed(f"lms_callback_url must be a non-empty string; expected {EXPECTED_URL}")
    check_allowed(url)
    match = _PATH.match(urlsplit(url).path)
    if not match:
        raise CallbackNotAllowed(f"lms_callback_url path does not have the LMS's shape; expected {EXPECTED_URL}")
    course_id = unquote(match["course_id"])
    userid = unquote(match["userid"])
    mod_id = unquote_slashes(unquote(match["mod_id"]))
    dispatch = unquote(match["dispatch"])
    if not (userid.isascii() and userid.isdigit()) or len(userid) > MAX_USER_ID_LENGTH:
        raise CallbackNotAllowed(f"lms_callback_url user id {userid[:80]!r} is not the LMS's numeric user id")
    if dispatch not in DISPATCHES:
        raise CallbackNotAllowed(
            f"lms_callback_url dispatch {excerpt(dispatch)} is not one the LMS handles; expected one of {DISPATCHES}"
        )
    try:
        course_key = CourseKey.from_string(course_id)
    except InvalidKeyError:
        raise CallbackNotAllowed(f"lms_callback_url course id {excerpt(course_id)} is not a valid course key")
    try:
        usage_key = UsageKey.from_string(mod_id)
    except InvalidKeyError:
        raise CallbackNotAllowed(f"lms_callback_url usage key {excerpt(mod_id)} is not a valid usage key")
    if usage_key.course_key.run is None:  # an old-style key names no run: read it inside the course
        usage_key = usage_key.map_into_course(course_key)
    if len(str(course_key)) > MAX_KEY_LENGTH or len(str(usage_key)) > MAX_KEY_LENGTH:
        raise CallbackNotAllowed(
            f"lms_callback_url course id or usage key is longer than {MAX_KEY_LENGTH} characters"
        )
    if str(usage_key.course_key) != str(course_key):
        raise CallbackNotAllowed(
            f"lms_callback_url usage key {usage_key} belongs to course {usage_key.course_key}, "
            f"not to {course_key}"
        )
    return CallbackTarget(
        url=url, course_id=str(course_key), user_id=userid, usage_key=str(usage_key), dispatch=dispatch
    )
