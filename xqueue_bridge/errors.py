"""
Named errors of xqueue-bridge, under one root. Each says what was wrong and what is expected. The ones a
request can cause (``RequestRefused``) carry the HTTP status the XQueue API answers with (its envelope
always carries ``return_code`` 1 and the message).
"""

from __future__ import annotations

from typing import Any


class XQueueBridgeError(Exception):
    """The root of every error xqueue-bridge raises on purpose; ``message`` is for people."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RequestRefused(XQueueBridgeError):
    """A request the XQueue API refuses: answered ``{"return_code": 1, "content": message}``."""

    http_status = 400


class InvalidRequest(RequestRefused):
    """A request is malformed: a field is missing, is not JSON, or has the wrong type."""

    http_status = 400


class CallbackNotAllowed(InvalidRequest):
    """The ``lms_callback_url`` is not a URL the bridge may call (scheme, origin or shape)."""


class Forbidden(RequestRefused):
    """The account may not make this request (HTTP 403)."""

    http_status = 403


class NotInGroup(Forbidden):
    """An authenticated account that is not in the XQueue group."""


class RoleRequired(Forbidden):
    """An account whose role does not allow the request (an LMS account pulling, a grader submitting)."""


class NotFound(RequestRefused):
    """The request names a queue or a submission the bridge does not have (HTTP 404)."""

    http_status = 404


class UnknownQueue(NotFound):
    pass


class UnknownSubmission(NotFound):
    pass


class Conflict(RequestRefused):
    """The reply does not fit the submission's state (HTTP 409): it is not the one waited for."""

    http_status = 409


class IncorrectKey(Conflict):
    """A reply whose pullkey is wrong or stale (the submission was served again since)."""


class AlreadyAnswered(Conflict):
    """A second, different reply for a submission whose result was already accepted."""


class Superseded(Conflict):
    """A reply for a submission the learner has since replaced with a newer one."""


class PayloadTooLarge(RequestRefused):
    http_status = 413


class InvalidSettingValue(XQueueBridgeError):
    """One setting's value is not what the bridge can use (a system check turns it into an error)."""


class InvalidTransition(XQueueBridgeError):
    """A status change the submission or delivery status machine does not allow (a bug, not bad input)."""


class ConfigurationError(XQueueBridgeError):
    """A setting has a value the bridge cannot use; the message names the setting and what it expects."""


class UnknownProblem(XQueueBridgeError, LookupError):
    """
    A score update names a learner and problem the sink holds no state for (the LMS answers 404).

    The standalone sink knows a problem once ``xqueue_bridge.sink.learners.begin_attempt`` recorded it.
    """


class RenderFailed(XQueueBridgeError):
    """
    Applying a score update raised where the LMS's would (e.g. a non-numeric ``score``).

    The receiving ends turn it into the LMS's failure: HTTP 500 on the callback, an exception out of the
    signal receiver. Nothing was applied; the delivery may be retried.
    """


class ReplyError(XQueueBridgeError):
    """A grader reply that makes capa raise rather than answer (the LMS answers HTTP 500, applies nothing)."""


class XQueueReplyError(XQueueBridgeError):
    """An answer of the XQueue API that is not its envelope (seen by the bridge's own HTTP clients)."""


class UpdateRefused(XQueueBridgeError):
    """
    A callback the LMS's ``xqueue_callback`` view refuses before it looks anything up (``lms_status``: its
    answer, 404 or 500); ``code`` names the rule for shadow observations.
    """

    def __init__(self, code: str, message: str, *, lms_status: int):
        super().__init__(message)
        self.code = code
        self.lms_status = lms_status


class StageMoveRefused(XQueueBridgeError):
    """A rollout change refused by the stage guard; ``reasons`` lists each refused course or the unseen key."""

    def __init__(self, message: str, reasons: tuple[str, ...] = ()):
        super().__init__(message)
        self.reasons = reasons


class UnknownForcedMove(XQueueBridgeError, LookupError):
    """A forced-move id that names no recorded forced move."""


class UnknownStage(XQueueBridgeError, ValueError):
    """A stage name that is not one of the four stages (callback, shadow_callback, shadow_event, event)."""


class CourseMoveRefused(XQueueBridgeError):
    """A one-stage move of a course (dashboard, API) that is refused; ``reasons`` lists each unmet condition."""

    def __init__(self, message: str, reasons: tuple[str, ...] = ()):
        super().__init__(message)
        self.reasons = reasons


def json_type(value: Any) -> str:
    """What a decoded JSON value is, in words for a message: "a JSON array", "JSON null"."""
    if value is None:
        return "JSON null"
    kind = {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )
    return f"a JSON {kind}"
