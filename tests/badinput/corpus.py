"""
The bad-input corpus: malformed and hostile submits and replies, each with the answer it must get.

A case names what it sends and what comes back: the HTTP status and the envelope's content (exact, or a
prefix ending in ``...``). ``accepted`` cases are the legacy-defined outcomes where XQueue takes the input
as it is (an LMS body or a grader reply it forwards verbatim); each of them must then be delivered.
"""

from __future__ import annotations

import json

import attr

from xqueue_bridge.transports.event import max_points

# Placeholders filled in by the test: {lms} (the LMS's root), {block} (a problem of its own per case), and in
# replies {served} (the header as served), {good} (a good reply), {id} and {key} (the served id and pullkey).
COURSE_PATH = "/courses/course-v1:BridgeX+Code101+2026/xqueue/7/"
GOOD_URL = "{lms}" + COURSE_PATH + "block-v1:BridgeX+Code101+2026+type@problem+block@{block}/score_update"
OTHER_COURSE_URL = "{lms}" + COURSE_PATH + "block-v1:OtherX+Other+2026+type@problem+block@{block}/score_update"
STUDENT_INFO = {"anonymous_student_id": "anon-1", "submission_time": "20261125120000", "random_seed": 1}
GOOD_BODY = json.dumps(
    {"grader_payload": "{}", "student_response": "print(1)", "student_info": json.dumps(STUDENT_INFO)}
)
HEADER_EXPECTED = "expected a JSON object with lms_callback_url, lms_key, queue_name"
REPLY_HEADER_EXPECTED = "expected the header exactly as get_submission served it (submission_id, submission_key)"
SCORABLE = 'expected a JSON object such as {"correct": true, "score": 0.75, "msg": "<p>...</p>"}'
FRACTION = "expected a fraction of tests passed, 0.0 to 1.0"
REQUEUED = " (grading attempt 1 of 3: the submission is back in the queue to be graded again)"
POINTS_POSSIBLE = 3  # of the submissions the replies answer


@attr.frozen
class Case:
    name: str
    fields: dict | None = None  # form fields; None: send ``raw`` as the body
    status: int = 400
    content: str = ""
    accepted: bool = False
    raw: bytes | None = None
    content_type: str = ""
    method: str = "POST"


def header(**fields) -> str:
    base = {"lms_callback_url": GOOD_URL, "lms_key": "lms-key-bad-input", "queue_name": "test-pull"}
    return json.dumps({**base, **fields})


def submit(name: str, *, xqueue_header: str | None = None, xqueue_body: str | None = GOOD_BODY, extra=None,
           **expect) -> Case:
    fields = {}
    if xqueue_header is not None:
        fields["xqueue_header"] = xqueue_header
    if xqueue_body is not None:
        fields["xqueue_body"] = xqueue_body
    return Case(name=name, fields={**fields, **(extra or {})}, **expect)


SURROGATE = "an unpaired surrogate (\\ud800), which no database can store; send valid Unicode text"
NUL = "a NUL character, which the database cannot store; send text without it"
MISSING = "Missing field {!r}: the LMS sends xqueue_header and xqueue_body"

SUBMITS = [
    submit("no fields at all", xqueue_body=None, content=MISSING.format("xqueue_header")),
    submit("no xqueue_body", xqueue_header=header(), xqueue_body=None, content=MISSING.format("xqueue_body")),
    submit("header is not JSON", xqueue_header="lms_key=abc", content=f"xqueue_header is not JSON; {HEADER_EXPECTED}"),
    submit("header is empty", xqueue_header="", content=f"xqueue_header is not JSON; {HEADER_EXPECTED}"),
    submit("header is a JSON list", xqueue_header="[1, 2]",
           content=f"xqueue_header is a JSON array, not an object; {HEADER_EXPECTED}"),
    submit("header is a JSON string", xqueue_header='"header"',
           content=f"xqueue_header is a JSON string, not an object; {HEADER_EXPECTED}"),
    submit("header is JSON null", xqueue_header="null",
           content=f"xqueue_header is JSON null, not an object; {HEADER_EXPECTED}"),
    submit("header with a byte order mark", xqueue_header="\ufeff" + header(),
           content=f"xqueue_header is not JSON; {HEADER_EXPECTED}"),
    submit("header nested a hundred thousand deep", xqueue_header="[" * 100_000,
           content=f"xqueue_header is nested too deeply; {HEADER_EXPECTED}"),
    submit("header without lms_callback_url",
           xqueue_header=json.dumps({"lms_key": "k", "queue_name": "test-pull"}),
           content=f"xqueue_header has no 'lms_callback_url'; {HEADER_EXPECTED}"),
    submit("header without lms_key",
           xqueue_header=json.dumps({"lms_callback_url": GOOD_URL, "queue_name": "test-pull"}),
           content=f"xqueue_header has no 'lms_key'; {HEADER_EXPECTED}"),
    submit("header without queue_name", xqueue_header=json.dumps({"lms_callback_url": GOOD_URL, "lms_key": "k"}),
           content=f"xqueue_header has no 'queue_name'; {HEADER_EXPECTED}"),
    *[
        submit(f"lms_key {what}", xqueue_header=header(lms_key=value),
               content="xqueue_header lms_key must be a non-empty string of at most 255 characters "
                       "without control characters")
        for what, value in [("a number", 12345), ("null", None), ("empty", ""), ("of 256 characters", "k" * 256),
                            ("with a NUL", "key\u0000x"), ("a list", ["k"])]
    ],
    submit("lms_key NaN", xqueue_header='{"lms_callback_url": "u", "lms_key": NaN, "queue_name": "test-pull"}',
           content="xqueue_header lms_key must be a non-empty string of at most 255 characters "
                   "without control characters"),
    submit("queue_name unknown", xqueue_header=header(queue_name="nope"), status=404,
           content="Queue 'nope' not found; valid queues: test-pull, python-grader, other-queue"),
    submit("queue_name a number", xqueue_header=header(queue_name=7), content="queue_name must be a non-empty string"),
    submit("queue_name Infinity",
           xqueue_header='{"lms_callback_url": "u", "lms_key": "k", "queue_name": Infinity}',
           content="queue_name must be a non-empty string"),
    submit("queue_name of 200 characters", xqueue_header=header(queue_name="q" * 200),
           content="queue_name is longer than 128 characters"),
    submit("lms_callback_url a number", xqueue_header=header(lms_callback_url=42),
           content="lms_callback_url must be a non-empty string; "
                   "expected {root}/courses/{course_id}/xqueue/{user_id}/{usage_key}/{dispatch}"),
    submit("lms_callback_url without the LMS path", xqueue_header=header(lms_callback_url="{lms}/grade"),
           content="lms_callback_url path does not have the LMS's shape; "
                   "expected {root}/courses/{course_id}/xqueue/{user_id}/{usage_key}/{dispatch}"),
    submit("lms_callback_url with a user name, not an id",
           xqueue_header=header(lms_callback_url=GOOD_URL.replace("/xqueue/7/", "/xqueue/alice/")),
           content="lms_callback_url user id 'alice' is not the LMS's numeric user id"),
    submit("lms_callback_url with a user id of 100 digits",
           xqueue_header=header(lms_callback_url=GOOD_URL.replace("/xqueue/7/", "/xqueue/" + "9" * 100 + "/")),
           content="lms_callback_url user id '" + "9" * 80 + "' is not the LMS's numeric user id"),
    submit("lms_callback_url with an unknown dispatch",
           xqueue_header=header(lms_callback_url=GOOD_URL.replace("score_update", "delete_everything")),
           content="lms_callback_url dispatch 'delete_everything' is not one the LMS handles; "
                   "expected one of ('score_update', 'ungraded_response')"),
    submit("lms_callback_url with a bad course key",
           xqueue_header=header(lms_callback_url=GOOD_URL.replace("course-v1:BridgeX+Code101+2026/xqueue",
                                                                  "not-a-course/xqueue")),
           content="lms_callback_url course id 'not-a-course' is not a valid course key"),
    submit("lms_callback_url with a usage key of another course",
           xqueue_header=header(lms_callback_url=OTHER_COURSE_URL),
           content="lms_callback_url usage key block-v1:OtherX+Other+2026+type@problem+block@{block} belongs to "
                   "course course-v1:OtherX+Other+2026, not to course-v1:BridgeX+Code101+2026"),
    submit("lms_callback_url with a script", xqueue_header=header(lms_callback_url="javascript:alert(1)"),
           content="lms_callback_url scheme 'javascript' is not allowed; expected http or https"),
    submit("xqueue_body with a NUL character", xqueue_header=header(), xqueue_body="{\"a\": \"\u0000\"}",
           content="Field 'xqueue_body' contains a NUL character; send text (JSON escapes it as \\u0000)"),
    submit("anonymous_student_id of 500 characters", xqueue_header=header(),
           xqueue_body=json.dumps({"student_info": json.dumps({"anonymous_student_id": "a" * 500})}),
           content="xqueue_body student_info.anonymous_student_id must be at most 128 characters "
                   "without control characters"),
    *[
        submit(f"points_possible {value!r}", xqueue_header=header(), extra={"points_possible": value},
               content=message)
        for value, message in [
            ("abc", "points_possible 'abc' is not a whole number; expected a positive integer"),
            ("1.5", "points_possible '1.5' is not a whole number; expected a positive integer"),
            ("NaN", "points_possible 'NaN' is not a whole number; expected a positive integer"),
            ("0", "points_possible 0 is out of range; expected 1 to 2147483647"),
            ("-3", "points_possible -3 is out of range; expected 1 to 2147483647"),
            ("99999999999", "points_possible 99999999999 is out of range; expected 1 to 2147483647"),
        ]
    ],
    # Text no supported database stores (PostgreSQL refuses NUL; no encoding holds a lone surrogate), and
    # refused values echoed cut to a prefix.
    submit("lms_key with a lone surrogate", xqueue_header=header(lms_key="key-\ud800"),
           content=f"xqueue_header lms_key contains {SURROGATE}"),
    submit("queue_name with a lone surrogate", xqueue_header=header(queue_name="test-\udc00"),
           content="queue_name contains an unpaired surrogate (\\udc00), which no database can store; "
                   "send valid Unicode text"),
    submit("queue_name with a NUL", xqueue_header=header(queue_name="test-pull\u0000"),
           content=f"queue_name contains {NUL}"),
    submit("lms_callback_url with a lone surrogate in the query",
           xqueue_header=header(lms_callback_url=GOOD_URL + "?q=\ud800"),
           content=f"xqueue_header lms_callback_url contains {SURROGATE}"),
    submit("anonymous_student_id with a lone surrogate", xqueue_header=header(),
           xqueue_body=json.dumps({"student_info": json.dumps({"anonymous_student_id": "anon-\ud800"})}),
           content=f"xqueue_body student_info.anonymous_student_id contains {SURROGATE}"),
    submit("anonymous_student_id with a NUL", xqueue_header=header(),
           xqueue_body=json.dumps({"student_info": json.dumps({"anonymous_student_id": "anon-\u0000"})}),
           content=f"xqueue_body student_info.anonymous_student_id contains {NUL}"),
    submit("points_possible of 5000 digits", xqueue_header=header(), extra={"points_possible": "1" * 5000},
           content="points_possible '11111111111111111111111111111111'... (5000 characters) is not a whole number; "
                   "expected a positive integer"),
    submit("points_possible of 4000 digits", xqueue_header=header(), extra={"points_possible": "4" * 4000},
           content="points_possible 44444444444444444444444444444444... (4000 characters) is out of range; "
                   "expected 1 to 2147483647"),
    submit("course id of 3000 characters",
           xqueue_header=header(lms_callback_url=GOOD_URL.replace("course-v1:BridgeX+Code101+2026/xqueue",
                                                                  "c" * 3000 + "/xqueue")),
           content="lms_callback_url course id 'cccccccccccccccccccccccccccccccc'... (3000 characters) "
                   "is not a valid course key"),
    Case("a JSON document instead of a form", raw=json.dumps({"xqueue_header": header(), "xqueue_body": "x"}).encode(),
         content_type="application/json", content=MISSING.format("xqueue_header")),
    Case("a multipart body that does not parse", raw=b"--nope\r\nContent-Disposition: form-data\r\n\r\nx",
         content_type="multipart/form-data", content="The multipart body cannot be read..."),
    Case("a GET", fields={}, method="GET", status=405, content="/xqueue/submit/ takes POST, not GET"),
    # Legacy-defined outcomes: XQueue takes any LMS body and hands it to the grader verbatim.
    submit("xqueue_body that is not JSON", xqueue_header=header(), xqueue_body="just text", status=200,
           content="1", accepted=True),
    submit("xqueue_body empty", xqueue_header=header(), xqueue_body="", status=200, content="1", accepted=True),
    submit("xqueue_body with a script in the answer", xqueue_header=header(),
           xqueue_body=json.dumps({"student_response": "<script>alert(document.cookie)</script>"}),
           status=200, content="1", accepted=True),
    submit("xqueue_body in many scripts and directions", xqueue_header=header(),
           xqueue_body=json.dumps({"student_response": "print('héllo, 世界, مرحبا, \U0001f600')"}, ensure_ascii=False),
           status=200, content="1", accepted=True),
    submit("header with keys the bridge does not know", xqueue_header=header(extra="ignored", priority=9),
           status=200, content="1", accepted=True),
]


def reply(name: str, *, xqueue_header: str | None = "{served}", xqueue_body: str | None = "{good}",
          **expect) -> Case:
    fields = {}
    if xqueue_header is not None:
        fields["xqueue_header"] = xqueue_header
    if xqueue_body is not None:
        fields["xqueue_body"] = xqueue_body
    return Case(name=name, fields=fields, **expect)


REPLY_MISSING = "Missing field {!r}: the grader sends xqueue_header and xqueue_body"

REPLIES = [
    reply("no fields at all", xqueue_header=None, xqueue_body=None, content=REPLY_MISSING.format("xqueue_header")),
    reply("no xqueue_body", xqueue_body=None, content=REPLY_MISSING.format("xqueue_body")),
    reply("header is not JSON", xqueue_header="submission_id=1",
          content=f"xqueue_header is not JSON; {REPLY_HEADER_EXPECTED}"),
    reply("header is a JSON list", xqueue_header="[{id}, \"{key}\"]",
          content=f"xqueue_header is a JSON array, not an object; {REPLY_HEADER_EXPECTED}"),
    reply("header without submission_id", xqueue_header=json.dumps({"submission_key": "{key}"}),
          content="xqueue_header has no 'submission_id'; send back the header exactly as it was served"),
    reply("header without submission_key", xqueue_header='{"submission_id": {id}}',
          content="xqueue_header has no 'submission_key'; send back the header exactly as it was served"),
    *[
        reply(f"submission_id {what}", xqueue_header=f'{{"submission_id": {value}, "submission_key": "{{key}}"}}',
              content=message)
        for what, value, message in [
            ("a word", '"seven"', "xqueue_header submission_id 'seven' is not a submission id"),
            ("a fraction", "1.5", "xqueue_header submission_id 1.5 is not a submission id"),
            ("NaN", "NaN", "xqueue_header submission_id nan is not a submission id"),
            ("Infinity", "Infinity", "xqueue_header submission_id inf is not a submission id"),
            ("true", "true", "xqueue_header submission_id True is not a submission id"),
            ("null", "null", "xqueue_header submission_id None is not a submission id"),
            ("negative", "-1", "xqueue_header submission_id -1 is out of range"),
            ("2**64", str(2**64), f"xqueue_header submission_id {2**64} is out of range"),
        ]
    ],
    reply("an unknown submission_id", xqueue_header='{"submission_id": 987654, "submission_key": "{key}"}',
          status=404, content="Submission 987654 does not exist"),
    reply("submission_key empty", xqueue_header='{"submission_id": {id}, "submission_key": ""}',
          content="xqueue_header submission_key must be the non-empty string served with the submission"),
    reply("submission_key a number", xqueue_header='{"submission_id": {id}, "submission_key": 12345}',
          content="xqueue_header submission_key must be the non-empty string served with the submission"),
    reply("submission_key wrong", xqueue_header='{"submission_id": {id}, "submission_key": "0123abcd"}',
          status=409, content="Incorrect key for submission"),
    reply("submission_key with a lone surrogate",
          xqueue_header='{"submission_id": {id}, "submission_key": "\\ud800"}',
          content=f"xqueue_header submission_key contains {SURROGATE}"),
    reply("submission_key with a NUL", xqueue_header='{"submission_id": {id}, "submission_key": "{key}\\u0000"}',
          content=f"xqueue_header submission_key contains {NUL}"),
    reply("submission_id of 5000 digits in a string",
          xqueue_header='{"submission_id": "' + "9" * 5000 + '", "submission_key": "{key}"}',
          content="xqueue_header submission_id '99999999999999999999999999999999'... (5000 characters) "
                  "is not a submission id"),
    reply("submission_id of 4000 digits",
          xqueue_header='{"submission_id": ' + "4" * 4000 + ', "submission_key": "{key}"}',
          content="xqueue_header submission_id 44444444444444444444444444444444... (4000 characters) is out of range"),
    reply("xqueue_body with a NUL character", xqueue_body='{"msg": "\u0000"}',
          content="Field 'xqueue_body' contains a NUL character; send text (JSON escapes it as \\u0000)"),
    reply("xqueue_body over the reply limit", xqueue_body="x" * (2560 * 1024 + 1), status=413,
          content="the reply has 2621441 bytes, over the limit of 2621440 (MAX_REPLY_BYTES) (grading attempt 1 of 3: "
                  "the submission is back in the queue to be graded again)"),
    Case("a GET", fields={}, method="GET", status=405, content="/xqueue/put_result/ takes POST, not GET"),
    # Legacy-defined outcomes on the callback path: XQueue forwards any reply verbatim; the LMS judges it.
    *[
        reply(f"callback stage: reply {what}", xqueue_body=body, status=200, content="", accepted=True)
        for what, body in [
            ("that is not JSON", "All tests passed!"),
            ("that is a JSON list", "[true, 1.0, \"ok\"]"),
            ("with a NaN score", '{"correct": true, "score": NaN, "msg": "<p>ok</p>"}'),
            ("with a script in msg", json.dumps({"correct": True, "score": 1, "msg": "<script>alert(1)</script>"})),
            ("with msg that is not XML", json.dumps({"correct": True, "score": 1, "msg": "<p>unclosed <b>tags"})),
            ("with keys nobody reads", json.dumps({"correct": True, "score": 1, "msg": "", "grader_id": 7})),
            ("in many scripts", json.dumps({"correct": True, "score": 1, "msg": "<p>✓ 正确 صحيح \U0001f389</p>"},
                                           ensure_ascii=False)),
            ("that is empty", ""),
        ]
    ],
]

# On the event path a reply edx-submissions cannot score is refused with the reason (HTTP 422) and the
# submission goes back to the queue; a scorable one is accepted.
EVENT_REPLIES = [
    *[
        reply(f"event stage: reply {what}", xqueue_body=body, status=422,
              content=f"Reply not scored on the event path: {reason}{REQUEUED}")
        for what, body, reason in [
            ("that is not JSON", "All tests passed!", f"the reply is not JSON; {SCORABLE}"),
            ("that is a JSON list", "[1]", f"the reply is a JSON array, not an object; {SCORABLE}"),
            ("nested a hundred thousand deep", "[" * 100_000, f"the reply is nested too deeply; {SCORABLE}"),
            ("without a score", '{"correct": true, "msg": ""}', f"the reply has no score; {SCORABLE}"),
            ("with a null score", '{"correct": true, "score": null}', f"the reply has no score; {SCORABLE}"),
            ("with a string score", '{"correct": true, "score": "1"}', f"score '1' is not a number; {FRACTION}"),
            ("with a NaN score", '{"correct": true, "score": NaN}', f"score nan is not a finite number; {FRACTION}"),
            ("with an infinite score", '{"score": -Infinity}', f"score -inf is not a finite number; {FRACTION}"),
            ("with a negative score", '{"score": -0.5}', f"score -0.5 is negative; {FRACTION}"),
            ("with an enormous score", '{"score": 1e300}',
             f"score 1e+300 gives {str(round(1e300 * POINTS_POSSIBLE))[:32]}... (301 characters) points, "
             f"more than {max_points()}; expected 0.0 to 1.0"),
            ("with a 5000-digit score", '{"score": ' + "9" * 5000 + "}", f"the reply is not JSON; {SCORABLE}"),
        ]
    ],
    reply("event stage: reply with a boolean score", xqueue_body='{"correct": true, "score": true, "msg": ""}',
          status=200, content="", accepted=True),
    reply("event stage: reply with a script in msg",
          xqueue_body=json.dumps({"correct": True, "score": 1, "msg": "<img src=x onerror=alert(1)>"}),
          status=200, content="", accepted=True),
]
