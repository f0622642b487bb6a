"""
Keeping secrets (queue keys, pullkeys) out of what is logged, stored as an error, or shown.

JSON can spell one string many ways (``"\\u0073ecret"`` is ``"secret"``), so a JSON document is redacted
by the parsed value of each field (``redact_json``), never by its raw text; free text is redacted by every
spelling ``json.dumps`` gives a secret (``redact``), which is how a secret reaches an error message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from xqueue_bridge.text import UNSTORABLE

REDACTED = "[redacted]"


def _spellings(secret: str) -> list[str]:
    """The secret as written, and as ``json.dumps`` writes it (ASCII-escaped or not), longest first."""
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    return sorted(forms, key=len, reverse=True)


def redact(text: str, *secrets_: str) -> str:
    """``text`` with every secret in it replaced, however ``json.dumps`` spelled it, so it can be logged and stored."""
    for secret in secrets_:
        if secret:
            for spelling in _spellings(secret):
                text = text.replace(spelling, REDACTED)
    return text


def _walk(value: Any, fields: frozenset[str], secrets_: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if key in fields else _walk(item, fields, secrets_) for key, item in value.items()
        }
    if isinstance(value, list):
        return [_walk(item, fields, secrets_) for item in value]
    if isinstance(value, str):
        return redact(value, *secrets_)
    return value


def redact_json(text: str, fields: Iterable[str], *secrets_: str) -> str:
    """
    The JSON document ``text`` written again with the value of each field named in ``fields`` replaced,
    at any depth, and every string value that holds a secret redacted: by parsed values, whatever escapes
    the text used. Text that is not JSON is redacted as free text.
    """
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return redact(text, *secrets_)
    redacted = json.dumps(_walk(parsed, frozenset(fields), tuple(s for s in secrets_ if s)), ensure_ascii=False)
    return UNSTORABLE.sub("\ufffd", redacted)  # a page cannot carry a lone surrogate (nor should it a NUL)
