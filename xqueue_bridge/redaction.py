"""Keeping secrets (queue keys, pullkeys) out of what is logged, stored as an error, or shown."""

from __future__ import annotations


def redact(text: str, *secrets_: str) -> str:
    """``text`` with every secret in it replaced, so it can be logged and stored."""
    for secret in secrets_:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text
