"""
Named errors of xqueue-bridge. Each says what was wrong and what is expected, and carries the HTTP status
the intake answers with (the XQueue envelope always carries ``return_code`` 1 and the message).
"""

from __future__ import annotations

from typing import Any


class XQueueBridgeError(Exception):
    """Base class of the errors the XQueue API turns into ``{"return_code": 1, "content": message}``."""

    http_status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidRequest(XQueueBridgeError):
    """A request is malformed: a field is missing, is not JSON, or has the wrong type."""

    http_status = 400


class CallbackNotAllowed(InvalidRequest):
    """The ``lms_callback_url`` is not a URL the bridge may call (scheme, origin or shape)."""


class NotInGroup(XQueueBridgeError):
    """An authenticated account that is not in the XQueue group."""

    http_status = 403


class UnknownQueue(XQueueBridgeError):
    http_status = 404


class UnknownSubmission(XQueueBridgeError):
    http_status = 404


class IncorrectKey(XQueueBridgeError):
    """A reply whose pullkey is wrong or stale (the submission was served again since)."""

    http_status = 409


class AlreadyAnswered(XQueueBridgeError):
    """A second, different reply for a submission whose result was already accepted."""

    http_status = 409


class Superseded(XQueueBridgeError):
    """A reply for a submission the learner has since replaced with a newer one."""

    http_status = 409


class PayloadTooLarge(XQueueBridgeError):
    http_status = 413


class InvalidTransition(Exception):
    """A status change the submission or delivery status machine does not allow (a bug, not bad input)."""


class ConfigurationError(Exception):
    """A setting has a value the bridge cannot use; the message names the setting and what it expects."""


class UnknownProblem(LookupError):
    """
    A score update names a learner and problem the sink holds no state for (the LMS answers 404).

    The standalone sink knows a problem once ``xqueue_bridge.sink.api.begin_attempt`` recorded it.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RenderFailed(Exception):
    """
    Applying a score update raised where the LMS's would (e.g. a non-numeric ``score``).

    The receiving ends turn it into the LMS's failure: HTTP 500 on the callback, an exception out of the
    signal receiver. Nothing was applied; the delivery may be retried.
    """

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UnknownStage(ValueError):
    """A stage name that is not one of the four stages (callback, shadow_callback, shadow_event, event)."""


def json_type(value: Any) -> str:
    """What a decoded JSON value is, in words for a message: "a JSON array", "JSON null"."""
    if value is None:
        return "JSON null"
    kind = {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )
    return f"a JSON {kind}"
