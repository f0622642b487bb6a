"""
Property-based tests of the parsers of untrusted input: whatever an LMS or a grader sends, the submit and
reply parsers, the callback URL parser and the event path's reading of a reply either return a value that
means what was sent or raise the bridge's own named error; they never fail in another way.
"""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from xqueue_bridge.errors import CallbackNotAllowed, XQueueBridgeError
from xqueue_bridge.intake.callback_url import parse_callback_url
from xqueue_bridge.intake.parsing import parse_reply, parse_submit
from xqueue_bridge.keys import quote_slashes
from xqueue_bridge.transports.event import max_points, points_earned

FAST = settings(max_examples=300, deadline=None)
LMS = "http://127.0.0.1:8000"

JSON_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
                | st.text(max_size=20))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
TEXT = st.text(max_size=200)


def as_json(value) -> str:
    return json.dumps(value)  # NaN and infinities as the bare words Python's json writes and reads


# --- reply -----------------------------------------------------------------------------------------------

@FAST
@given(fields=st.dictionaries(st.sampled_from(["xqueue_header", "xqueue_body", "other"]), TEXT))
def test_parse_reply_on_any_text_answers_or_names_the_problem(fields):
    try:
        reply = parse_reply(fields)
    except XQueueBridgeError as error:
        assert error.message and error.http_status in (400, 413)
        return
    assert reply.xqueue_header == fields["xqueue_header"] and reply.xqueue_body == fields["xqueue_body"]


@FAST
@given(header=st.dictionaries(st.sampled_from(["submission_id", "submission_key", "extra"]), JSON_VALUES),
       body=TEXT)
def test_parse_reply_on_any_json_header_answers_or_names_the_problem(header, body):
    try:
        reply = parse_reply({"xqueue_header": as_json(header), "xqueue_body": body})
    except XQueueBridgeError as error:
        assert error.http_status == 400 and ("xqueue_header" in error.message or "NUL" in error.message)
        return
    assert isinstance(reply.submission_id, int) and 0 < reply.submission_id < 2**63
    assert reply.submission_key == header["submission_key"] and reply.submission_key


@FAST
@given(submission_id=st.integers(1, 2**63 - 1), key=st.text(min_size=1, max_size=64).filter(lambda k: "\0" not in k),
       body=TEXT.filter(lambda b: "\0" not in b))
def test_a_header_as_served_always_reads_back_as_served(submission_id, key, body):
    header = json.dumps({"submission_id": submission_id, "submission_key": key})
    reply = parse_reply({"xqueue_header": header, "xqueue_body": body})
    assert (reply.submission_id, reply.submission_key, reply.xqueue_body) == (submission_id, key, body)


# --- submit ----------------------------------------------------------------------------------------------

@FAST
@given(fields=st.dictionaries(st.sampled_from(["xqueue_header", "xqueue_body", "points_possible"]), TEXT))
def test_parse_submit_on_any_text_answers_or_names_the_problem(fields):
    try:
        parse_submit(fields)
    except XQueueBridgeError as error:
        assert error.message and error.http_status in (400, 404)


@FAST
@given(header=st.dictionaries(st.sampled_from(["lms_callback_url", "lms_key", "queue_name", "extra"]), JSON_VALUES),
       body=TEXT, points=st.none() | TEXT)
def test_parse_submit_on_any_json_header_answers_or_names_the_problem(header, body, points):
    fields = {"xqueue_header": as_json(header), "xqueue_body": body}
    if points is not None:
        fields["points_possible"] = points
    try:
        request = parse_submit(fields)
    except XQueueBridgeError as error:
        assert error.message and error.http_status in (400, 404)
        return
    assert request.lms_key == header["lms_key"] and request.queue_name == header["queue_name"]


BLOCK = st.text("abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=30)
KEY = st.text(min_size=1, max_size=255).filter(lambda k: all(ord(c) >= 32 and ord(c) != 127 for c in k))


@FAST
@given(user_id=st.integers(0, 10**12), block=BLOCK, key=KEY, answer=TEXT.filter(lambda b: "\0" not in b),
       anonymous_id=st.text("abcdef0123456789", min_size=1, max_size=40),
       dispatch=st.sampled_from(["score_update", "ungraded_response"]), points=st.integers(1, 2**31 - 1))
def test_a_submit_as_the_lms_makes_it_always_reads_back_as_sent(user_id, block, key, answer, anonymous_id, dispatch,
                                                                   points):
    usage = f"block-v1:BridgeX+Code101+2026+type@problem+block@{block}"
    url = f"{LMS}/courses/course-v1:BridgeX+Code101+2026/xqueue/{user_id}/{quote_slashes(usage)}/{dispatch}"
    header = json.dumps({"lms_callback_url": url, "lms_key": key, "queue_name": "test-pull"})
    student_info = json.dumps({"anonymous_student_id": anonymous_id, "submission_time": "20261125120000"})
    body = json.dumps({"grader_payload": "", "student_info": student_info, "student_response": answer})
    request = parse_submit({"xqueue_header": header, "xqueue_body": body, "points_possible": str(points)})
    assert (request.xqueue_header, request.xqueue_body, request.lms_key) == (header, body, key)
    assert (request.target.user_id, request.target.usage_key) == (str(user_id), usage)
    assert request.target.dispatch == dispatch
    assert (request.anonymous_student_id, request.points_possible) == (anonymous_id, points)


# --- callback URL ----------------------------------------------------------------------------------------

@FAST
@given(url=st.text(max_size=200) | st.builds(lambda tail: LMS + "/courses/" + tail, st.text(max_size=150)))
def test_parse_callback_url_on_any_text_answers_or_refuses(url):
    try:
        target = parse_callback_url(url)
    except CallbackNotAllowed as error:
        assert error.message.startswith("lms_callback_url")
        return
    assert target.url == url and target.user_id.isdigit() and target.dispatch in ("score_update", "ungraded_response")


@FAST
@given(org=st.text("ABCXYZabc0123", min_size=1, max_size=8), run=st.text("0123456789", min_size=1, max_size=4),
       user_id=st.integers(0, 10**9), block=BLOCK)
def test_a_callback_url_of_any_course_reads_back_its_parts(org, run, user_id, block):
    course = f"course-v1:{org}+C101+{run}"
    usage = f"block-v1:{org}+C101+{run}+type@problem+block@{block}"
    target = parse_callback_url(f"{LMS}/courses/{course}/xqueue/{user_id}/{quote_slashes(usage)}/score_update")
    assert (target.course_id, target.user_id, target.usage_key) == (course, str(user_id), usage)


# --- the event path's reading of a reply -----------------------------------------------------------------

@FAST
@given(reply=st.dictionaries(st.sampled_from(["correct", "score", "msg"]), JSON_VALUES).map(as_json) | TEXT,
       points_possible=st.integers(1, 2**31 - 1))
def test_points_earned_on_any_reply_is_edx_submissions_rounding_or_a_reason(reply, points_possible):
    points, reason = points_earned(reply, points_possible)
    if points is None:
        assert reason
        return
    score = json.loads(reply)["score"]
    assert reason is None and 0 <= points <= max_points()
    assert math.isfinite(score) and points == round(score * points_possible)


# --- hostile text: what no database stores, and what is echoed ---------------------------------------------

# Any code point, lone surrogates (U+D800..U+DFFF) and NUL included: what a JSON escape can put in a string.
ANY_CHAR = st.characters(exclude_categories=())
HOSTILE = st.text(ANY_CHAR, max_size=40) | st.builds(lambda a, b: a + "\ud800" + b, TEXT, TEXT)


def storable(text: str) -> bool:
    return "\x00" not in text and not any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


@FAST
@given(key=HOSTILE, queue=HOSTILE | st.just("test-pull"), anonymous_id=HOSTILE, query=HOSTILE)
def test_parse_submit_lets_through_only_text_every_database_stores(key, queue, anonymous_id, query):
    url = f"{LMS}/courses/course-v1:BridgeX+Code101+2026/xqueue/7/block-v1:BridgeX+Code101+2026+type@problem+block@p1"
    header = as_json({"lms_callback_url": f"{url}/score_update?{query}", "lms_key": key, "queue_name": queue})
    body = as_json({"student_info": as_json({"anonymous_student_id": anonymous_id})})
    try:
        request = parse_submit({"xqueue_header": header, "xqueue_body": body})
    except XQueueBridgeError as error:
        assert error.http_status in (400, 404) and len(error.message) < 400
        return
    for value in (request.lms_key, request.queue_name, request.lms_callback_url, request.anonymous_student_id or ""):
        assert storable(value)


@FAST
@given(key=HOSTILE, submission_id=HOSTILE | st.integers() | st.text("0123456789", min_size=1, max_size=5000))
def test_parse_reply_lets_through_only_storable_keys_and_echoes_at_most_a_prefix(key, submission_id):
    header = as_json({"submission_id": submission_id, "submission_key": key})
    try:
        reply = parse_reply({"xqueue_header": header, "xqueue_body": "{}"})
    except XQueueBridgeError as error:
        assert error.http_status == 400 and len(error.message) < 400
        return
    assert storable(reply.submission_key)


@FAST
@given(points=st.text("0123456789-", min_size=1, max_size=5000) | HOSTILE)
def test_points_possible_is_echoed_at_most_as_a_prefix(points):
    header = as_json({"lms_callback_url": f"{LMS}/courses/course-v1:A+B+C/xqueue/7/"
                      "block-v1:A+B+C+type@problem+block@p/score_update", "lms_key": "k", "queue_name": "test-pull"})
    try:
        parse_submit({"xqueue_header": header, "xqueue_body": "", "points_possible": points})
    except XQueueBridgeError as error:
        assert error.http_status == 400 and len(error.message) < 400
