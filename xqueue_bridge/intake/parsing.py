"""
Parsing and checking of the XQueue requests: what the LMS submits and what a grader replies.

Each check raises a named error that says which field was wrong and what is expected; nothing here
writes anything, so a refused request changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from xqueue_bridge.conf import get_setting
from xqueue_bridge.data import CallbackTarget, GraderReply, SubmitRequest
from xqueue_bridge.errors import InvalidRequest, PayloadTooLarge, UnknownQueue, json_type
from xqueue_bridge.intake.callback_url import parse_callback_url
from xqueue_bridge.text import excerpt, loads, require_storable

SUBMIT_HEADER_FIELDS = ("lms_callback_url", "lms_key", "queue_name")
REPLY_HEADER_FIELDS = ("submission_id", "submission_key")
MAX_KEY_LENGTH = 255  # lms_key: the column that holds it
MAX_QUEUE_NAME_LENGTH = 128
MAX_ANONYMOUS_ID_LENGTH = 128  # Submission.anonymous_student_id


def _field(data: Mapping[str, Any], name: str, sent_by: str) -> str:
    if name not in data:
        raise InvalidRequest(f"Missing field {name!r}: {sent_by} sends xqueue_header and xqueue_body")
    value = data[name]
    if not isinstance(value, str):
        raise InvalidRequest(f"Field {name!r} must be a string")
    if "\x00" in value:  # PostgreSQL cannot store it; no client sends it (JSON escapes it as \u0000)
        raise InvalidRequest(f"Field {name!r} contains a NUL character; send text (JSON escapes it as \\u0000)")
    return require_storable(value, f"Field {name!r}")


def _has_control(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def _json_object(text: str, what: str, expected: str) -> dict:
    value = loads(text, what, expected)
    if not isinstance(value, dict):
        raise InvalidRequest(f"{what} is {json_type(value)}, not an object; expected {expected}")
    return value


def check_queue(queue_name: Any) -> str:
    """The queue name, if the bridge serves that queue."""
    if not isinstance(queue_name, str) or not queue_name:
        raise InvalidRequest("queue_name must be a non-empty string")
    require_storable(queue_name, "queue_name")
    if len(queue_name) > MAX_QUEUE_NAME_LENGTH:
        raise InvalidRequest(f"queue_name is longer than {MAX_QUEUE_NAME_LENGTH} characters")
    queues = get_setting("QUEUES")
    if queue_name not in queues:
        raise UnknownQueue(f"Queue {queue_name!r} not found; valid queues: {', '.join(queues)}")
    return queue_name


def anonymous_student_id(xqueue_body: str) -> str | None:
    """The learner's anonymous id from the LMS body (``student_info`` is itself a JSON string), if present."""
    try:
        body = json.loads(xqueue_body)
        info = body.get("student_info") if isinstance(body, dict) else None
        if isinstance(info, str):
            info = json.loads(info)
        value = info.get("anonymous_student_id") if isinstance(info, dict) else None
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, str) and value else None


def points_possible_for(target: CallbackTarget, queue_name: str) -> int:
    """
    A problem's points when its submit names none (the LMS's client never does; edx-submissions reads the
    block's max_score): POINTS_POSSIBLE by usage key, then by course, then by ``queue:<name>``, then
    DEFAULT_POINTS_POSSIBLE.
    """
    table = get_setting("POINTS_POSSIBLE")
    for key in (target.usage_key, target.course_id, f"queue:{queue_name}"):
        if key in table:
            return int(table[key])
    return int(get_setting("DEFAULT_POINTS_POSSIBLE"))


def parse_points_possible(value: Any) -> int:
    try:
        points = int(str(value).strip())
    except ValueError:
        raise InvalidRequest(f"points_possible {excerpt(value)} is not a whole number; expected a positive integer")
    if points < 1 or points > 2**31 - 1:
        raise InvalidRequest(f"points_possible {excerpt(points)} is out of range; expected 1 to 2147483647")
    return points


def parse_submit(data: Mapping[str, Any]) -> SubmitRequest:
    """Check a submit request's fields (form data) and return what they mean."""
    header = _field(data, "xqueue_header", "the LMS")
    body = _field(data, "xqueue_body", "the LMS")
    header_dict = _json_object(header, "xqueue_header", "a JSON object with " + ", ".join(SUBMIT_HEADER_FIELDS))
    for name in SUBMIT_HEADER_FIELDS:
        if name not in header_dict:
            raise InvalidRequest(
                f"xqueue_header has no {name!r}; expected a JSON object with " + ", ".join(SUBMIT_HEADER_FIELDS)
            )
    lms_key = header_dict["lms_key"]
    if not isinstance(lms_key, str) or not lms_key or len(lms_key) > MAX_KEY_LENGTH or _has_control(lms_key):
        raise InvalidRequest(
            f"xqueue_header lms_key must be a non-empty string of at most {MAX_KEY_LENGTH} characters "
            "without control characters"
        )
    require_storable(lms_key, "xqueue_header lms_key")
    queue_name = check_queue(header_dict["queue_name"])
    if isinstance(header_dict["lms_callback_url"], str):
        require_storable(header_dict["lms_callback_url"], "xqueue_header lms_callback_url")
    target = parse_callback_url(header_dict["lms_callback_url"])
    anonymous_id = anonymous_student_id(body)
    if anonymous_id is not None:
        require_storable(anonymous_id, "xqueue_body student_info.anonymous_student_id")
    if anonymous_id is not None and (len(anonymous_id) > MAX_ANONYMOUS_ID_LENGTH or _has_control(anonymous_id)):
        raise InvalidRequest(
            f"xqueue_body student_info.anonymous_student_id must be at most {MAX_ANONYMOUS_ID_LENGTH} characters "
            "without control characters"
        )
    return SubmitRequest(
        xqueue_header=header,
        xqueue_body=body,
        queue_name=queue_name,
        lms_callback_url=target.url,
        lms_key=lms_key,
        target=target,
        anonymous_student_id=anonymous_id,
        points_possible=(
            points_possible_for(target, queue_name) if data.get("points_possible") in (None, "")
            else parse_points_possible(data["points_possible"])
        ),
    )


def check_files(files: Mapping[str, Any]) -> None:
    """Refuse more files, or bigger ones, than the intake takes, and two files under one name."""
    max_files, max_bytes = get_setting("MAX_FILES"), get_setting("MAX_FILE_BYTES")
    getlist = getattr(files, "getlist", lambda name: [files[name]])
    count = sum(len(getlist(name)) for name in files)
    if count > max_files:
        raise PayloadTooLarge(f"{count} files sent; at most {max_files} are accepted")
    for name in files:
        require_storable(name, "a file field name")
        if _has_control(name):
            raise InvalidRequest(f"file field name {excerpt(name)} contains control characters")
        uploads = getlist(name)
        if len(uploads) > 1:
            raise InvalidRequest(
                f"{len(uploads)} files sent under the name {excerpt(name)}; send each under its own name"
            )
        for upload in uploads:
            if upload.size > max_bytes:
                raise PayloadTooLarge(f"file {excerpt(name)} has {upload.size} bytes; at most {max_bytes} are accepted")


def parse_reply(data: Mapping[str, Any], *, oversized: int = 0) -> GraderReply:
    """
    Check a put_result request's fields (form data). A body over MAX_REPLY_BYTES is not kept: the reply
    says how large it was (``oversized``), so that its submission counts a failed grading attempt. A
    request too large to read names only its header (``oversized`` given, no body).
    """
    header = _field(data, "xqueue_header", "the grader")
    body = "" if oversized else _field(data, "xqueue_body", "the grader")
    size = len(body.encode("utf-8", "surrogatepass"))
    if size > get_setting("MAX_REPLY_BYTES"):
        oversized, body = size, ""
    header_dict = _json_object(
        header, "xqueue_header", "the header exactly as get_submission served it (submission_id, submission_key)"
    )
    for name in REPLY_HEADER_FIELDS:
        if name not in header_dict:
            raise InvalidRequest(f"xqueue_header has no {name!r}; send back the header exactly as it was served")
    submission_id, key = header_dict["submission_id"], header_dict["submission_key"]
    if isinstance(submission_id, bool) or not isinstance(submission_id, int | str):
        raise InvalidRequest(f"xqueue_header submission_id {excerpt(submission_id)} is not a submission id")
    try:
        submission_id = int(submission_id)
    except ValueError:
        raise InvalidRequest(f"xqueue_header submission_id {excerpt(submission_id)} is not a submission id")
    if not 0 < submission_id < 2**63:
        raise InvalidRequest(f"xqueue_header submission_id {excerpt(submission_id)} is out of range")
    if not isinstance(key, str) or not key:
        raise InvalidRequest("xqueue_header submission_key must be the non-empty string served with the submission")
    require_storable(key, "xqueue_header submission_key")
    return GraderReply(
        submission_id=submission_id, submission_key=key, xqueue_header=header, xqueue_body=body, oversized=oversized,
    )
