"""
The LMS's quoting of usage keys inside URLs: ``/`` becomes ``;_`` and ``;`` becomes ``;;``, so that a
usage key with slashes (old-style ``i4x://`` keys) stays one path segment.
"""

from __future__ import annotations

import re

_QUOTE = {";": ";;", "/": ";_"}
_UNQUOTE = {";;": ";", ";_": "/"}


def quote_slashes(text: str) -> str:
    """Quote ``/`` and ``;`` the LMS way."""
    return re.sub(r"[;/]", lambda match: _QUOTE[match.group(0)], text)


def unquote_slashes(text: str) -> str:
    """Undo ``quote_slashes``; a lone ``;`` not followed by ``;`` or ``_`` is kept as it is."""
    return re.sub(r";[;_]", lambda match: _UNQUOTE[match.group(0)], text)
