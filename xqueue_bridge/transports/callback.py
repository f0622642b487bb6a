"""
The legacy path: a form-encoded POST of the LMS's own header and the grader's reply, verbatim, to the
submission's ``lms_callback_url`` (what XQueue does). Success is HTTP 200 and nothing else.
"""

from __future__ import annotations

import threading
import time

import requests

from xqueue_bridge import callback_auth
from xqueue_bridge.conf import get_setting
from xqueue_bridge.data import DeliveryResult
from xqueue_bridge.errors import CallbackNotAllowed
from xqueue_bridge.models import Submission
from xqueue_bridge.transports.origins import check_allowed

_sessions = threading.local()


def _session() -> requests.Session:
    """One keep-alive session per thread (a Session is not meant to be shared between threads)."""
    session = getattr(_sessions, "session", None)
    if session is None:
        session = _sessions.session = requests.Session()
        session.trust_env = False  # no proxy from the environment: the callback goes where the LMS said
    return session


def callback_request(submission: Submission, body: str) -> dict:
    """The request the LMS receives (signed, see callback_auth): checked against the allowed origins again."""
    check_allowed(submission.lms_callback_url)
    auth = get_setting("CALLBACK_BASIC_AUTH")
    return {
        "url": submission.lms_callback_url,
        "data": {"xqueue_header": submission.xqueue_header, "xqueue_body": body},
        # The bridge's own stand-in receiving end accepts only signed callbacks; the LMS ignores the header.
        "headers": {callback_auth.SIGNATURE_HEADER: callback_auth.sign(submission.xqueue_header, body)},
        "timeout": (get_setting("CALLBACK_CONNECT_TIMEOUT"), get_setting("CALLBACK_READ_TIMEOUT")),
        "allow_redirects": False,
        "verify": get_setting("CALLBACK_VERIFY") or True,
        "auth": tuple(auth) if auth else None,
    }


def post_callback(submission: Submission, body: str) -> DeliveryResult:
    """POST the reply to the LMS once; the caller's retry policy decides what follows a failure."""
    started = time.monotonic()
    try:
        request = callback_request(submission, body)
    except CallbackNotAllowed as exc:
        return DeliveryResult(ok=False, duration=0.0, error=exc.message, retryable=False)
    try:
        response = _session().post(**request)
    except requests.Timeout as exc:
        return DeliveryResult(ok=False, duration=time.monotonic() - started, error=f"timeout: {type(exc).__name__}")
    except requests.RequestException as exc:
        return DeliveryResult(
            ok=False, duration=time.monotonic() - started, error=f"connection error: {type(exc).__name__}"
        )
    duration = time.monotonic() - started
    if response.status_code != 200:
        return DeliveryResult(ok=False, duration=duration, error=f"LMS answered HTTP {response.status_code}")
    return DeliveryResult(ok=True, duration=duration)
