"""
Where callbacks may go: the origins in ALLOWED_CALLBACK_ORIGINS, and nothing the HTTP client would read
differently. Checked when the LMS submits (intake) and again before each callback is sent (settings change).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from xqueue_bridge.conf import get_setting
from xqueue_bridge.errors import CallbackNotAllowed, ConfigurationError
from xqueue_bridge.text import excerpt

EXPECTED_URL = "{root}/courses/{course_id}/xqueue/{user_id}/{usage_key}/{dispatch}"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int]:
    """Scheme, lower-cased host and port of ``url``; refuses anything that is not plain http(s)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise CallbackNotAllowed(f"lms_callback_url {excerpt(url, 100)} is not a URL ({exc}); expected {EXPECTED_URL}")
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise CallbackNotAllowed(
            f"lms_callback_url scheme {parts.scheme or '(none)'!r} is not allowed; expected http or https"
        )
    if not parts.hostname:
        raise CallbackNotAllowed(f"lms_callback_url {excerpt(url, 100)} has no host; expected {EXPECTED_URL}")
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
        raise CallbackNotAllowed(
            f"lms_callback_url {excerpt(url, 100)} cannot be sent by the HTTP client; expected {EXPECTED_URL}"
        )
    client_origin = (
        (parsed.scheme or "").lower(),
        (parsed.host or "").strip("[]").lower(),
        parsed.port or _DEFAULT_PORTS.get((parsed.scheme or "").lower()),
    )
    if client_origin != origin:
        raise CallbackNotAllowed(
            f"lms_callback_url {excerpt(url, 100)} is ambiguous: its host reads differently to different URL parsers"
        )


_RULE = re.compile(r"^(?P<scheme>https?)://(?P<host>\[[^\]]+\]|[^:/\[\]]+)(?::(?P<port>\d+|\*))?/?$", re.I)


def parse_origin_rule(rule: str) -> tuple[str, str, int | None]:
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
        r_scheme, r_host, r_port = parse_origin_rule(rule)
        if r_scheme == scheme and r_host == host and (r_port is None or r_port == port):
            return
    raise CallbackNotAllowed(
        f"lms_callback_url origin {scheme}://{host}:{port} is not an allowed LMS origin; "
        f"allowed: {', '.join(rules) or '(none configured: set ALLOWED_CALLBACK_ORIGINS)'}"
    )
