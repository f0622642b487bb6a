"""Callbacks to the stand-in receiving ends signed as the bridge signs its own (for tests that post by hand)."""

from __future__ import annotations

from django.test import Client

from xqueue_bridge import callback_auth

CONFIGURED = object()  # the installation's own secret, as the bridge's callback transport uses it


def signature_headers(xqueue_header: str, xqueue_body: str, secret=CONFIGURED) -> dict[str, str]:
    """The header the bridge adds to a callback; ``secret`` None: the one derived from SECRET_KEY."""
    key = callback_auth.configured_key() if secret is CONFIGURED else callback_auth.signing_key(secret)
    return {callback_auth.SIGNATURE_HEADER: callback_auth.sign(xqueue_header, xqueue_body, key)}


class SignedClient(Client):
    """Django's test client posting to the stand-in as the bridge does: each callback signed."""

    def post(self, path, data=None, *args, headers=None, **kwargs):
        data = data or {}
        if "xqueue_header" in data and "xqueue_body" in data:
            headers = {**signature_headers(data["xqueue_header"], data["xqueue_body"]), **(headers or {})}
        return super().post(path, data, *args, headers=headers, **kwargs)
