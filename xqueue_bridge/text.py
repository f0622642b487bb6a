"""
Untrusted text at the edges: what no supported database stores, JSON read within the intake's limits, and
refused values echoed as a short prefix (in answers and logs alike).
"""

from __future__ import annotations

import json
import re
from typing import Any

from xqueue_bridge.errors import InvalidRequest

# PostgreSQL refuses NUL in text; no database encoding (nor UTF-8) holds an unpaired surrogate.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
ECHO_CHARS = 32  # what a refusal quotes of a value it refuses


def unstorable(text: str) -> str | None:
    """Why no supported database can store ``text`` (SQLite, MariaDB, PostgreSQL), or None if all can."""
    found = UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "a NUL character, which the database cannot store; send text without it"
    return f"an unpaired surrogate (\\u{ord(found.group()):04x}), which no database can store; send valid Unicode text"


def require_storable(value: str, field: str) -> str:
    """``value`` if every database can store it; else InvalidRequest (400) naming ``field``."""
    reason = unstorable(value)
    if reason is not None:
        raise InvalidRequest(f"{field} contains {reason}")
    return value


def excerpt(value: Any, limit: int = ECHO_CHARS) -> str:
    """
    ``value`` as a refusal quotes it: strings in quotes, other values as written, and anything longer than
    ``limit`` characters cut to its first ``limit`` with the full length said.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * limit:
        digits = str(abs(value)) if value.bit_length() < 14_000 else None  # str() refuses > 4300 digits
        if digits is None:
            return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
        text = ("-" if value < 0 else "") + digits
        return f"{text[:limit]}... ({len(text)} characters)"
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text) if isinstance(value, str) else text
    head = text[:limit]
    return f"{head!r}... ({len(text)} characters)" if isinstance(value, str) else f"{head}... ({len(text)} characters)"


def loads(text: str, what: str, expected: str) -> Any:
    """``text`` read as JSON, or InvalidRequest saying why not (nesting beyond the parser's depth included)."""
    try:
        return json.loads(text)
    except ValueError:
        raise InvalidRequest(f"{what} is not JSON; expected {expected}")
    except RecursionError:  # hostile nesting; json raises this rather than ValueError
        raise InvalidRequest(f"{what} is nested too deeply; expected {expected}")


def nested_too_deeply(text: str) -> bool:
    """Whether ``text`` is JSON nested deeper than the parser goes (text that is not JSON is not)."""
    try:
        json.loads(text)
    except RecursionError:
        return True
    except ValueError:
        return False
    return False
