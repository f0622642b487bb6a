"""
Differential test: the bridge's event path against edx-submissions 4.0.2, reply by reply.

Both systems run in the same Django process on the same database, behind the same live HTTP server:
edx-submissions' own ``XQueueViewSet`` is mounted at ``/submissions-xqueue/xqueue/`` (see ``urlpatterns``
below) and the bridge's XQueue API at ``/xqueue/``. For each grader reply in ``CASES`` (each case on a
queue and problem of its own, so that what one case leaves in a queue is never served in another):

* edx-submissions: the submission is created with its ``create_external_grader_detail``, pulled and
  answered over HTTP by an xqueue-watcher-like ``GraderClient``; we record the HTTP status and envelope
  of ``put_result``, the ``EXTERNAL_GRADER_SCORE_SUBMITTED`` events it sent, the ``ExternalGraderDetail``
  status afterwards, and whether the submission is served again at once;
* the bridge: the same learner, problem, points and queue key are submitted through ``/xqueue/submit/``
  in the ``event`` stage, pulled and answered the same way, and the same things are recorded.

``CASES`` is the table of what edx-submissions does with each reply (its ``reference`` column is asserted,
so the table stays true). What the bridge must do follows from it, and the test compares the observed
outcomes of both systems with the expected ones as one table, printed, with only the rows that differ
shown on a failure:

* edx-submissions sends an event (``Scored``): the bridge sends exactly one event whose
  ``ExternalGraderScoreData`` is identical except ``submission_id``, which in each system is that
  system's own submission id. The grader hears success from both.
* edx-submissions sends nothing (``Requeued``: it answers the grader with success and silently puts the
  submission back in the queue as ``retry``; ``Refused``: it answers 400 or 500 and leaves the submission
  ``pulled``, to be served again only after five minutes): the bridge sends nothing either, answers the
  grader with HTTP 422 and ``return_code`` 1 and the reason, and records what became of the submission:
  ``queued`` again at once, ``grading_failures`` counted, the reason in ``last_refusal``.

What the learner sees when no grader reply can be scored
(docs/decisions/0004-unscorable-replies-on-the-event-path.rst): with edx-submissions, nothing, for ever;
after five unscorable replies the submission is ``failed``, no event is ever sent, and the problem stays
"queued" in the LMS. With the bridge, after MAX_GRADING_ATTEMPTS (3) unscorable replies the submission is
``failed`` and a failure notice is sent as the event: ``points_earned`` 0 and a ``score_msg`` of
``{"correct": null, "score": 0, "msg": "<div class=\\"capa_alert\\">This submission could not be graded...``.
The LMS's receiver hands that ``score_msg`` to ``score_update`` as it does any reply, so the learner sees
the problem marked incorrect, 0 points, with the "could not be graded" message, and can submit again.

Outside this corpus, by design: a reply larger than MAX_REPLY_BYTES is refused by the bridge (413)
before it is read, where edx-submissions has no limit of its own.
"""

from __future__ import annotations

import json

import attr
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import override_settings
from django.urls import include, path
from submissions import api as submissions_api
from submissions import urls as submissions_urls
from submissions.models import ExternalGraderDetail, Score

from tests.conftest import COURSE, GRADER_PASSWORD, GRADER_USER, set_stage, submission_for
from xqueue_bridge.conf import get_setting
from xqueue_bridge.models import Delivery, Submission
from xqueue_bridge.outbox.queueing import FAILURE_NOTICE_MSG
from xqueue_bridge.runtime.clients import GraderClient

# Both systems on one live server: edx-submissions under a prefix, so that a GraderClient whose base URL
# ends in it talks to edx-submissions exactly as xqueue-watcher would; its routes are namespaced, because
# some of their names ("xqueue-login", "xqueue-status") are also the bridge's.
REFERENCE_PREFIX = "/submissions-xqueue"
urlpatterns = [
    path("submissions-xqueue/xqueue/", include((submissions_urls.urlpatterns, "reference"))),
    path("", include("xqueue_bridge.urls")),
]
pytestmark = pytest.mark.urls(__name__)

QUEUE = "python-grader"
QUEUE_KEY = "queue-key-differential"
ANONYMOUS_ID = "anon-differential-1"
LMS_USER_ID = 7
BLOCK = "differential"
ANSWER = "def double(x):\n    return 2 * x\n"
# What edx-submissions' put_result answers whenever it does not fail outright.
SUCCESS = {"return_code": 0, "content": ""}


def on_event_path() -> None:
    """Put the bridge's course on the event path (a course override of the rollout flags)."""
    set_stage("event")


# --- the table -----------------------------------------------------------------------------------------


@attr.frozen
class Scored:
    """edx-submissions answers 200 with success, retires the submission and sends one event."""

    points_earned: int


@attr.frozen
class Requeued:
    """edx-submissions answers 200 with success but sends nothing: the submission goes back as ``retry``."""


@attr.frozen
class Refused:
    """edx-submissions answers an HTTP error and sends nothing; the submission stays ``pulled``."""

    http_status: int


REQUEUED = Requeued()


@attr.frozen
class Case:
    id: str
    body: str  # the xqueue_body exactly as the grader posts it
    points_possible: int
    # What edx-submissions does with it; a dict where that depends on the database (by connection.vendor).
    reference: Scored | Requeued | Refused | dict
    refusal: str = ""  # words the bridge's refusal must contain, where no event is sent

    def expected_reference(self) -> Scored | Requeued | Refused:
        if isinstance(self.reference, dict):
            return self.reference[connection.vendor]
        return self.reference


def reply(**fields) -> str:
    return json.dumps(fields, ensure_ascii=False)


UNICODE_MSG = "<p>Résultat : ✓ 3/3 — 测试通过 🎉 — مرحبا — Ǆ̈ — \u2028 fin</p>"
HUGE_MSG = "<pre>" + "test_case passed; " * 50_000 + "</pre>"  # ~900 KB, under MAX_REPLY_BYTES (2.5 MiB)

CASES = [
    # Normal replies, as xqueue-watcher sends them: score is the fraction of tests passed.
    Case("correct-1.0", reply(correct=True, score=1.0, msg="<p>All tests passed</p>"), 1, Scored(1)),
    Case("incorrect-0.0", reply(correct=False, score=0.0, msg="<p>No test passed</p>"), 1, Scored(0)),
    # Fractions: points_earned = round(score * points_possible), rounding half to even.
    Case("0.25-of-1", reply(correct=False, score=0.25, msg="<p>1 of 4</p>"), 1, Scored(0)),
    Case("0.5-of-1", reply(correct=False, score=0.5, msg="<p>1 of 2</p>"), 1, Scored(0)),  # half to even
    Case("0.7-of-1", reply(correct=False, score=0.7, msg="<p>7 of 10</p>"), 1, Scored(1)),
    Case("1.5-of-1", reply(correct=True, score=1.5, msg="<p>bonus</p>"), 1, Scored(2)),  # no upper clamp
    Case("2.5-of-1", reply(correct=True, score=2.5, msg="<p>bonus</p>"), 1, Scored(2)),  # half to even
    Case("0.25-of-3", reply(correct=False, score=0.25, msg="<p>1 of 4</p>"), 3, Scored(1)),  # 0.75
    Case("0.5-of-3", reply(correct=False, score=0.5, msg="<p>1 of 2</p>"), 3, Scored(2)),  # 1.5 to even
    Case("0.7-of-3", reply(correct=False, score=0.7, msg="<p>7 of 10</p>"), 3, Scored(2)),  # 2.0999999999999996
    Case("1.5-of-3", reply(correct=True, score=1.5, msg="<p>bonus</p>"), 3, Scored(4)),  # 4.5 to even
    Case("2.5-of-3", reply(correct=True, score=2.5, msg="<p>bonus</p>"), 3, Scored(8)),  # 7.5 to even
    Case("0.25-of-4", reply(correct=False, score=0.25, msg="<p>1 of 4</p>"), 4, Scored(1)),
    Case("0.7-of-4", reply(correct=False, score=0.7, msg="<p>7 of 10</p>"), 4, Scored(3)),  # 2.8
    Case("2.5-of-4", reply(correct=True, score=2.5, msg="<p>bonus</p>"), 4, Scored(10)),
    # Booleans are numbers to Python's arithmetic: True * 4 == 4.
    Case("true-of-1", reply(correct=True, score=True, msg="<p>ok</p>"), 1, Scored(1)),
    Case("true-of-4", reply(correct=True, score=True, msg="<p>ok</p>"), 4, Scored(4)),
    Case("false-of-1", reply(correct=False, score=False, msg="<p>no</p>"), 1, Scored(0)),
    # Integer scores.
    Case("int-1-of-1", reply(correct=True, score=1, msg="<p>ok</p>"), 1, Scored(1)),
    Case("int-0-of-1", reply(correct=False, score=0, msg="<p>no</p>"), 1, Scored(0)),
    Case("int-2-of-4", reply(correct=True, score=2, msg="<p>double</p>"), 4, Scored(8)),
    # Negative scores: what rounds to 0 is scored, what rounds below 0 is re-queued silently.
    Case("-0.4-of-1", reply(correct=False, score=-0.4, msg="<p>penalty</p>"), 1, Scored(0)),
    Case("-0.5-of-1", reply(correct=False, score=-0.5, msg="<p>penalty</p>"), 1, Scored(0)),
    Case("-0.4-of-3", reply(correct=False, score=-0.4, msg="<p>penalty</p>"), 3, REQUEUED, "is negative"),
    Case("-0.6-of-1", reply(correct=False, score=-0.6, msg="<p>penalty</p>"), 1, REQUEUED, "is negative"),
    Case("-1-of-1", reply(correct=False, score=-1, msg="<p>penalty</p>"), 1, REQUEUED, "is negative"),
    # Scores that are not numbers.
    Case("score-abc", reply(correct=True, score="abc", msg="<p>ok</p>"), 1, REQUEUED, "'abc' is not a number"),
    Case("score-string-1", reply(correct=True, score="1", msg="<p>ok</p>"), 1, REQUEUED, "'1' is not a number"),
    Case("score-list", reply(correct=True, score=[1], msg="<p>ok</p>"), 1, REQUEUED, "[1] is not a number"),
    Case("score-null", reply(correct=True, score=None, msg="<p>ok</p>"), 1, REQUEUED, "has no score"),
    Case("score-missing", reply(correct=True, msg="<p>ok</p>"), 1, REQUEUED, "has no score"),
    Case("score-NaN", reply(correct=False, score=float("nan"), msg="<p>?</p>"), 1, REQUEUED, "not a finite number"),
    Case("score-Infinity", reply(correct=True, score=float("inf"), msg="<p>?</p>"), 1, REQUEUED,
         "not a finite number"),
    Case("score--Infinity", reply(correct=False, score=float("-inf"), msg="<p>?</p>"), 1, REQUEUED,
         "not a finite number"),
    # Scores too large for edx-submissions' Score.points_earned, a PositiveIntegerField validated against
    # the column's range on the database in use.
    Case("score-2147483647", reply(correct=True, score=2147483647, msg="<p>max</p>"), 1, Scored(2147483647)),
    Case("score-3e9", reply(correct=True, score=3e9, msg="<p>big</p>"), 1,
         {"postgresql": REQUEUED, "mysql": Scored(3_000_000_000), "sqlite": Scored(3_000_000_000)},
         "more than 2147483647"),
    Case("score-1e30", reply(correct=True, score=1e30, msg="<p>huge</p>"), 1, REQUEUED, "more than"),
    # Other fields missing: edx-submissions reads only score; the LMS reads the rest from score_msg.
    Case("correct-missing", reply(score=1.0, msg="<p>ok</p>"), 1, Scored(1)),
    Case("msg-missing", reply(correct=True, score=1.0), 1, Scored(1)),
    Case("score-only-0.5-of-4", reply(score=0.5), 4, Scored(2)),
    Case("extra-fields", reply(correct=True, score=1.0, msg="<p>ok</p>", grader_id="g-1", tests=[1, 2]), 1,
         Scored(1)),
    Case("unicode-msg", reply(correct=True, score=1.0, msg=UNICODE_MSG), 1, Scored(1)),
    Case("huge-msg", reply(correct=True, score=1.0, msg=HUGE_MSG), 1, Scored(1)),
    # Bodies that are not a JSON object: edx-submissions fails (AttributeError: 500) or refuses (400).
    Case("body-json-array", json.dumps([True, 1.0, "<p>ok</p>"]), 1, Refused(500), "the reply is a JSON array"),
    Case("body-json-string", json.dumps("1.0"), 1, Refused(500), "the reply is a JSON string"),
    Case("body-json-number", "1.0", 1, Refused(500), "the reply is a JSON number"),
    Case("body-json-null", "null", 1, Refused(500), "the reply is JSON null"),
    Case("body-not-json", "correct: yes, score: 1.0", 1, Refused(400), "the reply is not JSON"),
    Case("body-empty", "", 1, Refused(400), "the reply is not JSON"),
]


# --- running one reply through each system ------------------------------------------------------------


@attr.frozen
class Observed:
    """What one system did with one reply."""

    http_status: int
    envelope: dict | None  # None where the answer is not an XQueue envelope (an HTML error page)
    events: list
    status: str  # the submission's status afterwards
    failures: int  # the submission's failure count afterwards
    served_again: bool  # whether the next get_submission serves it again at once


@attr.frozen
class Learner:
    """Who submits what, where: each case has its own problem and queue, so cases never meet."""

    queue: str
    block: str
    anonymous_id: str = ANONYMOUS_ID
    queue_key: str = QUEUE_KEY

    @property
    def usage_key(self) -> str:
        return f"block-v1:{COURSE.removeprefix('course-v1:')}+type@problem+block@{self.block}"


CASE_LEARNERS = [Learner(queue=f"differential-{n:02d}", block=f"differential{n:02d}") for n in range(len(CASES))]
LEARNER = Learner(queue=QUEUE, block=BLOCK)


@pytest.fixture(autouse=True)
def case_queues():
    """
    The bridge serves every case's queue. Its own receiving ends are off: both systems' events go to
    ``captured_events`` alone, as they would to an LMS over the bus.
    """
    queues = [*settings.XQUEUE_BRIDGE["QUEUES"], *(learner.queue for learner in CASE_LEARNERS)]
    with override_settings(XQUEUE_BRIDGE={**settings.XQUEUE_BRIDGE, "QUEUES": queues, "RECEIVING_ENDS": False}):
        yield


@pytest.fixture
def reference_grader(bridge_url) -> GraderClient:
    """
    An xqueue-watcher-like client of edx-submissions' XQueue API, with the same account: edx-submissions
    wants it in the ``xqueue`` group; for the bridge its grader role still decides (a role beats the group).
    """
    grader = get_user_model().objects.get(username=GRADER_USER)
    grader.groups.add(Group.objects.get_or_create(name="xqueue")[0])
    client = GraderClient(bridge_url + REFERENCE_PREFIX, GRADER_USER, GRADER_PASSWORD)
    assert client.login()
    return client


def post_reply(client: GraderClient, xqueue_header: str, body: str) -> tuple[int, dict | None]:
    """The grader's put_result (as ``GraderClient.put_result`` sends it), with the HTTP status kept."""
    response = client.session.post(
        client.base_url + "/xqueue/put_result/", data={"xqueue_header": xqueue_header, "xqueue_body": body},
        allow_redirects=False, timeout=client.timeout,
    )
    try:
        envelope = response.json()
    except ValueError:
        envelope = None
    return response.status_code, envelope


def submit_to_reference(learner: Learner, points_possible: int) -> ExternalGraderDetail:
    student_item = {
        "student_id": learner.anonymous_id, "course_id": COURSE, "item_id": learner.usage_key, "item_type": "problem",
    }
    return submissions_api.create_external_grader_detail(
        student_item, ANSWER, queue_name=learner.queue, queue_key=learner.queue_key, points_possible=points_possible
    )


def submit_to_bridge(lms, recording_lms, learner: Learner, points_possible: int) -> Submission:
    header, body = submission_for(
        recording_lms.callback_url(user_id=LMS_USER_ID, block=learner.block), queue=learner.queue,
        key=learner.queue_key, answer=ANSWER, anonymous_id=learner.anonymous_id,
    )
    on_event_path()
    code, _ = lms.submit(header, body, extra={"points_possible": str(points_possible)})
    assert code == 0
    submission = Submission.objects.latest("pk")
    assert (submission.stage, submission.usage_key, submission.points_possible) == (
        "event", learner.usage_key, points_possible)
    return submission


def grade_once(grader: GraderClient, queue: str, own_id: int, body: str, captured: list,
               status_of) -> Observed:
    """Pull the submission ``own_id``, post ``body`` as its reply, and record what followed."""
    served = grader.get_submission(queue)
    assert json.loads(served["xqueue_header"])["submission_id"] == own_id
    before = len(captured)
    http_status, envelope = post_reply(grader, served["xqueue_header"], body)
    events = captured[before:]
    status, failures = status_of()
    served_again = grader.get_submission(queue) is not None
    return Observed(http_status, envelope, events, status, failures, served_again)


def run_reference(learner, body, points_possible, grader, captured) -> tuple[ExternalGraderDetail, Observed]:
    detail = submit_to_reference(learner, points_possible)

    def status_of():
        detail.refresh_from_db()
        return detail.status, detail.num_failures

    return detail, grade_once(grader, learner.queue, detail.submission.id, body, captured, status_of)


def run_bridge(learner, body, points_possible, lms, grader, recording_lms, captured) -> tuple[Submission, Observed]:
    submission = submit_to_bridge(lms, recording_lms, learner, points_possible)

    def status_of():
        submission.refresh_from_db()
        return submission.status, submission.grading_failures

    return submission, grade_once(grader, learner.queue, submission.pk, body, captured, status_of)


def same_event_fields(event) -> dict:
    """The event's fields that must agree between the two systems, with their types."""
    fields = attr.asdict(event)
    del fields["submission_id"]
    return {name: (type(value), value) for name, value in fields.items()}


# --- outcomes, as table rows ---------------------------------------------------------------------------


def _answer(observed: Observed) -> str:
    if observed.envelope is None:
        return f"HTTP {observed.http_status}, no envelope"
    if observed.envelope == SUCCESS:
        return f"HTTP {observed.http_status}, success"
    return f"HTTP {observed.http_status}, return_code {observed.envelope.get('return_code')}: " \
           f"{observed.envelope.get('content')}"


def _status(observed: Observed) -> str:
    status = observed.status + (f" after {observed.failures} failure(s)" if observed.failures else "")
    return f"{status}; {'served again at once' if observed.served_again else 'not served again now'}"


def describe_reference(case: Case, detail: ExternalGraderDetail, observed: Observed) -> str:
    if not observed.events:
        events = "no event"
    elif (len(observed.events) == 1 and observed.events[0].submission_id == detail.submission.id
          and observed.events[0].score_msg == case.body):
        events = f"event points_earned={observed.events[0].points_earned!r}"
    else:
        events = f"events {[attr.asdict(event) for event in observed.events]}"
    scores = list(Score.objects.filter(submission=detail.submission).values_list("points_earned", flat=True))
    return f"{_answer(observed)}; {_status(observed)}; {events}; scores {scores}"


def expected_reference(outcome) -> str:
    if isinstance(outcome, Scored):
        return (f"HTTP 200, success; retired; not served again now; event points_earned={outcome.points_earned!r}; "
                f"scores [{outcome.points_earned}]")
    if isinstance(outcome, Requeued):
        return "HTTP 200, success; retry after 1 failure(s); served again at once; no event; scores []"
    if outcome.http_status == 400:
        return "HTTP 400, return_code 1: Incorrect reply format; pulled; not served again now; no event; scores []"
    return f"HTTP {outcome.http_status}, no envelope; pulled; not served again now; no event; scores []"


SAME_EVENT = "the reference's event with its own submission_id"
REFUSED = "return_code 1 naming the problem"


def describe_bridge(case: Case, submission: Submission, observed: Observed, reference_events: list) -> str:
    answer = _answer(observed)
    attempts = get_setting("MAX_GRADING_ATTEMPTS")
    if observed.envelope and observed.envelope.get("return_code") == 1:
        content = observed.envelope["content"]
        if (case.refusal and case.refusal in content and submission.last_refusal
                and submission.last_refusal in content
                and f"grading attempt 1 of {attempts}: the submission is back in the queue" in content):
            answer = f"HTTP {observed.http_status}, {REFUSED}"
    deliveries = [(d.kind, d.path, d.status, d.attempts) for d in Delivery.objects.filter(submission=submission)]
    delivered = {(): "no delivery", (("result", "event", "delivered", 1),): "result delivered by event"}.get(
        tuple(deliveries), f"deliveries {deliveries}")
    if not observed.events:
        events = "no event"
    elif (len(observed.events) == 1 and len(reference_events) == 1
          and observed.events[0].submission_id == submission.pk
          and same_event_fields(observed.events[0]) == same_event_fields(reference_events[0])):
        events = SAME_EVENT
    else:
        events = f"events {[attr.asdict(event) for event in observed.events]}"
    return f"{answer}; {_status(observed)}; {delivered}; {events}"


def expected_bridge(outcome) -> str:
    if isinstance(outcome, Scored):
        return f"HTTP 200, success; graded; not served again now; result delivered by event; {SAME_EVENT}"
    return f"HTTP 422, {REFUSED}; queued after 1 failure(s); served again at once; no delivery; no event"


def table(rows: list[tuple[str, str, str]]) -> str:
    return "\n".join(f"{case_id}\n    edx-submissions: {reference}\n    bridge:          {bridge}"
                     for case_id, reference, bridge in rows)


def mismatches(observed: list[tuple[str, str, str]], expected: list[tuple[str, str, str]]) -> str:
    lines = []
    for (case_id, reference, bridge), (_, want_reference, want_bridge) in zip(observed, expected, strict=True):
        for system, got, want in (("edx-submissions", reference, want_reference), ("bridge", bridge, want_bridge)):
            if got != want:
                lines.append(f"{case_id}, {system}:\n    expected: {want}\n    observed: {got}")
    return "\n".join(lines)


# --- the tests -----------------------------------------------------------------------------------------


def test_bridge_matches_edx_submissions_reply_by_reply(lms, grader, reference_grader, recording_lms,
                                                      captured_events):
    """
    Every reply of ``CASES``, through edx-submissions and then through the bridge; the outcomes are
    compared as one table (printed, and shown case by case on a mismatch).
    """
    observed, expected = [], []
    for case, learner in zip(CASES, CASE_LEARNERS, strict=True):
        detail, reference = run_reference(learner, case.body, case.points_possible, reference_grader,
                                          captured_events)
        submission, bridge = run_bridge(learner, case.body, case.points_possible, lms, grader, recording_lms,
                                        captured_events)
        observed.append((case.id, describe_reference(case, detail, reference),
                         describe_bridge(case, submission, bridge, reference.events)))
        outcome = case.expected_reference()
        expected.append((case.id, expected_reference(outcome), expected_bridge(outcome)))
    print(table(observed))
    assert observed == expected, "outcomes not as the table says:\n" + mismatches(observed, expected)
    assert recording_lms.calls == []  # the event path never calls the LMS back


def test_unscorable_replies_until_each_system_gives_up(
    lms, grader, reference_grader, recording_lms, captured_events
):
    """
    The same unscorable reply, again and again, until each system gives the submission up.

    edx-submissions tells the grader "success" each time, re-queues silently, and after five replies marks
    the submission ``failed`` without a word to anyone: no event, so the learner's problem stays "queued"
    in the LMS for ever. The bridge refuses each reply with the reason and, after MAX_GRADING_ATTEMPTS (3),
    marks the submission ``failed`` and sends a failure notice as the event: points_earned 0 and a
    score_msg ``{"correct": null, "score": 0, "msg": <the notice>}``, which the LMS's ``score_update``
    renders as incorrect, 0 points, with the "could not be graded" message.
    """
    body = reply(correct=True, score="all", msg="<p>5 of 5 tests passed</p>")
    points_possible = 3

    detail = submit_to_reference(LEARNER, points_possible)
    for attempt in range(1, 6):
        served = reference_grader.get_submission(QUEUE)
        assert json.loads(served["xqueue_header"])["submission_id"] == detail.submission.id
        assert post_reply(reference_grader, served["xqueue_header"], body) == (200, SUCCESS)
        detail.refresh_from_db()
        assert (detail.status, detail.num_failures) == ("retry" if attempt < 5 else "failed", attempt)
    assert reference_grader.get_submission(QUEUE) is None
    assert captured_events == []
    assert not Score.objects.filter(submission=detail.submission).exists()

    attempts = get_setting("MAX_GRADING_ATTEMPTS")
    assert attempts == 3  # the documented default
    submission = submit_to_bridge(lms, recording_lms, LEARNER, points_possible)
    for attempt in range(1, attempts + 1):
        served = grader.get_submission(QUEUE)
        assert json.loads(served["xqueue_header"])["submission_id"] == submission.pk
        http_status, envelope = post_reply(grader, served["xqueue_header"], body)
        assert (http_status, envelope["return_code"]) == (422, 1)
        assert "score 'all' is not a number; expected a fraction" in envelope["content"]
        assert f"grading attempt {attempt} of {attempts}" in envelope["content"]
        submission.refresh_from_db()
        assert submission.grading_failures == attempt
        assert submission.last_refusal in envelope["content"]
        if attempt < attempts:
            assert submission.status == "queued"
            assert captured_events == []
    assert envelope["content"].endswith(
        "the submission is given up and the learner is told it could not be graded)"
    )
    assert submission.status == "failed"
    assert grader.get_submission(QUEUE) is None
    assert recording_lms.calls == []

    notice = Delivery.objects.get(submission=submission)
    assert (notice.kind, notice.path, notice.status, notice.attempts) == ("failure_notice", "event", "delivered", 1)
    [event] = captured_events
    assert event.score_msg == notice.body
    assert json.loads(event.score_msg) == {"correct": None, "score": 0, "msg": FAILURE_NOTICE_MSG}
    assert "could not be graded" in FAILURE_NOTICE_MSG
    assert attr.asdict(event) == {
        "points_possible": points_possible,
        "points_earned": 0,
        "course_id": COURSE,
        "score_msg": notice.body,
        "submission_id": submission.pk,
        "user_id": ANONYMOUS_ID,
        "module_id": LEARNER.usage_key,
        "queue_key": QUEUE_KEY,
        "queue_name": QUEUE,
    }
