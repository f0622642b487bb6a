"""
What an ``lms_callback_url`` means, and whether the bridge may call it.

The LMS builds ``{root}/courses/{course_id}/xqueue/{userid}/{mod_id}/{dispatch}``, with ``mod_id`` the
usage key with its slashes quoted (``;_`` for ``/``, ``;;`` for ``;``). Everything is checked when the LMS
submits, so a bad URL is refused then rather than discovered when the result is delivered.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from opaque_keys import InvalidKeyError
from opaque_keys.edx.keys import CourseKey, UsageKey
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from xqueue_bridge.conf import get_setting
from xqueue_bridge.data import CallbackTarget
from xqueue_bridge.errors import CallbackNotAllowed, ConfigurationError
from xqueue_bridge.keys import unquote_slashes
from xqueue_bridge.render import DISPATCHES

MAX_KEY_LENGTH = 255  # course ids and usage keys: the columns that hold them

_PATH = re.compile(
    r"^.*?/courses/(?P<course_id>.+?)/xqueue/(?P<userid>[^/]+)/(?P<mod_id>[^/]+)/(?P<dispatch>[^/]+)/?$"
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_EXPECTED = "{root}/courses/{course_id}/xqueue/{user_id}/{usage_key}/{dispatch}"
# Column sizes of Submission: a longer value is refused here rather than failing in the database.
MAX_USER_ID_LENGTH = 64


def _origin(url: str) -> tuple[str, str, int]:
    """Scheme, lower-cased host and port of ``url``; refuses anything that is not plain http(s)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise CallbackNotAllowed(f"lms_callback_url {url!r} is not a URL ({exc}); expected {_EXPECTED}")
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise CallbackNotAllowed(
            f"lms_callback_url scheme {parts.scheme or '(none)'!r} is not allowed; expected http or https"
        )
    if not parts.hostname:
        raise CallbackNotAllowed(f"lms_callback_url {url!r} has no host; expected {_EXPECTED}")
    if parts.username is not None or parts.password is not None:
        raise CallbackNotAllowed("lms_callback_url must not carry credentials (user@host)")
    if any(ch.isspace() for ch in url) or any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise CallbackNotAllowed("lms_callback_url must not contain whitespace or control characters")
    if "\\" in url:  # URL parsers disagree on it: in http://a\@b/ one reads the host b, another the host a
        raise CallbackNotAllowed("lms_callback_url must not contain a backslash")
    origin = scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]
    _check_the_client_agrees(url, origin)
    return origin


def _check_the_client_agrees(url: str, origin: tuple[str, str, int]) -> None:
    """Refuse a URL that the HTTP client (urllib3, under requests) would send somewhere else than it reads."""
    try:
        parsed = parse_url(url)
    except LocationParseError:
        raise CallbackNotAllowed(f"lms_callback_url {url!r} cannot be sent by the HTTP client; expected {_EXPECTED}")
    client_origin = (
        (parsed.scheme or "").lower(),
        (parsed.host or "").strip("[]").lower(),
        parsed.port or _DEFAULT_PORTS.get((parsed.scheme or "").lower()),
    )
    if client_origin != origin:
        raise CallbackNotAllowed(
            f"lms_callback_url {url!r} is ambiguous: its host reads differently to different URL parsers"
        )


_RULE = re.compile(r"^(?P<scheme>https?)://(?P<host>\[[^\]]+\]|[^:/\[\]]+)(?::(?P<port>\d+|\*))?/?$", re.I)


def _parse_origin_rule(rule: str) -> tuple[str, str, int | None]:
    """``scheme://host[:port|:*]`` as (scheme, host, port); None as the port means any port."""
    match = _RULE.match(rule.strip())
    if not match:
        raise ConfigurationError(
            f"ALLOWED_CALLBACK_ORIGINS entry {rule!r} is not of the form scheme://host[:port] or scheme://host:*"
        )
    scheme, host, port = match["scheme"].lower(), match["host"].strip("[]").lower(), match["port"]
    if port == "*":
        return scheme, host, None
    return scheme, host, int(port) if port else _DEFAULT_PORTS[scheme]


def check_allowed(url: str) -> None:
    """Refuse ``url`` unless its origin is in ALLOWED_CALLBACK_ORIGINS (no request forgery via the queue)."""
    scheme, host, port = _origin(url)
    rules = get_setting("ALLOWED_CALLBACK_ORIGINS")
    for rule in rules:
        r_scheme, r_host, r_port = _parse_origin_rule(rule)
        if r_scheme == scheme and r_host == host and (r_port is None or r_port == port):
            return
    raise CallbackNotAllowed(
        f"lms_callback_url origin {scheme}://{host}:{port} is not an allowed LMS origin; "
        f"allowed: {', '.join(rules) or '(none configured: set ALLOWED_CALLBACK_ORIGINS)'}"
    )


def parse_callback_url(url: str) -> CallbackTarget:
    """Parse and check ``url``; raise CallbackNotAllowed saying what is wrong and what is expected."""
    if not isinstance(url, str) or not url:
        raise CallbackNotAllowed(f"lms_callback_url must be a non-empty string; expected {_EXPECTED}")
    check_allowed(url)
    match = _PATH.match(urlsplit(url).path)
    if not match:
        raise CallbackNotAllowed(f"lms_callback_url path does not have the LMS's shape; expected {_EXPECTED}")
    course_id = unquote(match["course_id"])
    userid = unquote(match["userid"])
    mod_id = unquote_slashes(unquote(match["mod_id"]))
    dispatch = unquote(match["dispatch"])
    if not (userid.isascii() and userid.isdigit()) or len(userid) > MAX_USER_ID_LENGTH:
        raise CallbackNotAllowed(f"lms_callback_url user id {userid[:80]!r} is not the LMS's numeric user id")
    if dispatch not in DISPATCHES:
        raise CallbackNotAllowed(
            f"lms_callback_url dispatch {dispatch!r} is not one the LMS handles; expected one of {DISPATCHES}"
        )
    try:
        course_key = CourseKey.from_string(course_id)
    except InvalidKeyError:
        raise CallbackNotAllowed(f"lms_callback_url course id {course_id!r} is not a valid course key")
    try:
        usage_key = UsageKey.from_string(mod_id)
    except InvalidKeyError:
        raise CallbackNotAllowed(f"lms_callback_url usage key {mod_id!r} is not a valid usage key")
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
