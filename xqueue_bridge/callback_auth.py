"""
The signature on every callback the bridge sends, by which its own stand-in receiving end knows it.

The callback transport adds ``X-XQueue-Bridge-Signature: sha256=<hex>``, an HMAC-SHA256 of the header and
the body under the installation's key; the standalone ``xqueue_callback`` refuses (403) a callback
without a valid one. The signature is sent to a real LMS too, which ignores unknown headers: it reveals
nothing of the key and fits no other content. Shared here so that the transport need not know the sink.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings

from xqueue_bridge.conf import get_setting
from xqueue_bridge.errors import ConfigurationError

SIGNATURE_HEADER = "X-XQueue-Bridge-Signature"
META_KEY = "HTTP_X_XQUEUE_BRIDGE_SIGNATURE"
MIN_SECRET_CHARS = 32
_DERIVATION = b"xqueue-bridge receiving ends v1"


def signing_key(secret: str | None) -> bytes:
    """The key of ``secret``, or, with None, one derived from SECRET_KEY (shared by the installation's processes)."""
    if secret is None:
        return hmac.new(settings.SECRET_KEY.encode("utf-8"), _DERIVATION, hashlib.sha256).digest()
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_CHARS:
        raise ConfigurationError(
            f"XQUEUE_BRIDGE['RECEIVING_ENDS_SECRET'] must be None or a string of at least {MIN_SECRET_CHARS} "
            "characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return secret.encode("utf-8")


def configured_key() -> bytes:
    return signing_key(get_setting("RECEIVING_ENDS_SECRET"))


def sign(xqueue_header: str, xqueue_body: str, key: bytes | None = None) -> str:
    """The signature of a callback's two fields (one JSON array of both: no two pairs share a message)."""
    message = json.dumps([xqueue_header, xqueue_body]).encode("ascii")
    return "sha256=" + hmac.new(configured_key() if key is None else key, message, hashlib.sha256).hexdigest()


def verify(signature: str, xqueue_header: str, xqueue_body: str) -> bool:
    """Whether ``signature`` is this installation's for these fields (compared in constant time)."""
    expected = sign(xqueue_header, xqueue_body)
    return hmac.compare_digest(signature.encode("utf-8", "surrogatepass"), expected.encode("ascii"))
