"""
Observations: what each delivery path makes of one grader reply, end to end, without touching the learner.

An observation models a path on the same input as the LMS's receiving end would see it:

* **callback**: the request the bridge would POST (``paths.callback.callback_request``: origin allowed,
  well formed for its URL) → the rules of the LMS's ``xqueue_callback`` view (the header is a JSON object
  with ``lms_key``) → the renderer's dry run of ``ScoreUpdate(via="callback", xqueue_body=reply verbatim,
  queuekey=lms_key)``. The score of record is capa's: npoints (``ProblemSnapshot.earned``).
* **event**: ``paths.event.interpret`` (no event: the learner is left queued, error ``unscorable_reply``)
  → the event bus's own Avro serialization round trip (``openedx_events.event_bus.avro``) → the rules of
  the LMS's receiver (``score_msg`` must be JSON) → the renderer's dry run of ``ScoreUpdate(via="event",
  xqueue_body=score_msg, queuekey=queue_key)``. The score of record is ``points_earned`` (edx-submissions'
  score row), which is how 0.5 of one point is 0.5 on one path and 0 on the other.

Apart from the score of record, each observation carries ``learner_points``: the points the learner's
problem grades with after the reply, which on both paths come from the raw reply through capa (the LMS's
receiver of the event never reads ``points_earned``). The comparison keeps the two apart
(``compare.LEARNER_FIELDS`` and ``compare.RECORD_FIELDS``).

Both dry runs start from the same pre-state, ``queued_snapshot``: the learner's problem queued under the
submission's ``lms_key`` with ``max_score = points_possible``. It is synthetic on purpose: by the time a
comparison runs the authoritative delivery has changed the real state, and a resubmission may change it
again at any moment; a fixed pre-state makes the comparison deterministic and free of those races.

Nothing here writes: the renderer's ``dry_run`` is pure, and the learner lookup (standalone sink only)
reads. Errors a path would meet are part of the observation (``error``, a short code, and ``detail``);
only a bug raises.
"""

from __future__ import annotations

import time

import attr
from openedx_events.event_bus.avro.deserializer import deserialize_bytes_to_event_data
from openedx_events.event_bus.avro.serializer import serialize_event_data_to_bytes
from openedx_events.learning.data import ExternalGraderScoreData
from openedx_events.learning.signals import EXTERNAL_GRADER_SCORE_SUBMITTED

from xqueue_bridge.conf import get_setting
from xqueue_bridge.data import QUEUED, ProblemSnapshot, RenderOutcome, ScoreUpdate
from xqueue_bridge.errors import CallbackNotAllowed, UpdateRefused
from xqueue_bridge.intake.callback_url import parse_callback_url
from xqueue_bridge.models import DeliveryPath, Submission
from xqueue_bridge.render.capa import get_renderer
from xqueue_bridge.render.feedback import feedback_html
from xqueue_bridge.render.updates import update_from_callback, update_from_event
from xqueue_bridge.transports import callback as callback_path
from xqueue_bridge.transports import event as event_path

# Error codes an observation can carry (a path's own failure as the LMS or edx-submissions would meet it).
UNSCORABLE_REPLY = "unscorable_reply"  # edx-submissions scores nothing and re-queues: no event
DUPLICATE_REPLY = "duplicate_reply"  # edx-submissions answers HTTP 500 to a second put_result: no event
RENDER_ERROR = "render_error"  # the LMS's score_update raises (HTTP 500 / receiver raises): nothing applied
CALLBACK_NOT_ALLOWED = "transport: callback_not_allowed"
MALFORMED_REQUEST = "transport: malformed_request"
AVRO_CHANGED = "transport: avro_changed"  # the event data does not survive the event bus unchanged
AVRO_FAILED = "transport: avro_failed"
SCORE_MSG_NOT_JSON = "receiver: score_msg_not_json"  # the LMS's receiver raises
DELIVERY_FAILED = "delivery_failed"  # the authoritative delivery was given up (control only)

SCORE_FIELDS = tuple(field.name for field in attr.fields(ExternalGraderScoreData))


@attr.frozen
class Observation:
    """What one path does with one reply: the learner-visible outcome, the score of record, any error."""

    path: str
    points_earned: float | None  # score of record; None while the learner is left queued or nothing is scored
    points_possible: int
    correctness: str | None
    feedback: str  # the feedback HTML the learner would see (normalized before comparing)
    key_consumed: bool  # the problem was queued before and is not after
    error: str | None = None
    learner: str | None = None  # which learner state the receiving end finds (standalone sink only)
    # The points the learner's problem grades with (None while queued); by default the score of record,
    # which it is on the callback path (capa's npoints).
    learner_points: float | None = attr.field(default=attr.Factory(lambda self: self.points_earned, takes_self=True))
    detail: str = ""  # why, in words; never compared, stored only with STORE_FULL_VALUES
    duration: float = 0.0  # seconds
    after: ProblemSnapshot | None = attr.field(default=None, eq=False, repr=False)


def queued_snapshot(submission: Submission) -> ProblemSnapshot:
    """The common pre-state: the problem queued under the submission's key (see the module docstring)."""
    return ProblemSnapshot(max_score=submission.points_possible, queuekey=submission.lms_key, correctness=QUEUED)


def consumed_snapshot(submission: Submission, reply: str) -> ProblemSnapshot:
    """The state after ``reply`` was applied once: the pre-state of a duplicate."""
    return observe_callback(submission, reply, queued_snapshot(submission)).after


def unchanged(path: str, before: ProblemSnapshot, error: str | None, detail: str, **fields) -> Observation:
    """The learner's problem left as it was (nothing delivered, or the receiving end failed)."""
    values = {
        "points_earned": None if before.queued else before.earned,
        "learner_points": None if before.queued else before.earned,
        "points_possible": before.max_score,
        "correctness": before.correctness,
        "feedback": feedback_html(before),
        "key_consumed": False,
        "after": before,
    }
    values.update(fields)
    return Observation(path=path, error=error, detail=detail, **values)


def _rendered(path: str, outcome: RenderOutcome, points_earned, points_possible: int, **fields) -> Observation:
    after = outcome.after
    return Observation(
        path=path,
        points_earned=points_earned,
        learner_points=None if after.queued else after.earned,
        points_possible=points_possible,
        correctness=after.correctness,
        feedback=outcome.feedback_html,
        key_consumed=outcome.before.queued and not after.queued,
        after=after,
        **fields,
    )


def _learner(update: ScoreUpdate) -> str | None:
    """
    The learner state the path's receiving end would find, when the bridge hosts them (RECEIVING_ENDS):
    by course, usage key and numeric user id for a callback, by usage key and anonymous id for an event.
    """
    if not get_setting("RECEIVING_ENDS"):
        return None
    return get_renderer().learner_of(update)


# --- the callback path -------------------------------------------------------------------------------


def _request_problem(request: dict, submission: Submission) -> str | None:
    """Why the callback request is not well formed for its URL, or None."""
    if request.get("url") != submission.lms_callback_url:
        return "the request does not go to the submission's lms_callback_url"
    data = request.get("data")
    if not isinstance(data, dict) or set(data) != {"xqueue_header", "xqueue_body"}:
        return "the form must hold exactly xqueue_header and xqueue_body"
    if not all(isinstance(value, str) for value in data.values()):
        return "xqueue_header and xqueue_body must be strings"
    if request.get("allow_redirects") is not False:
        return "the callback must not follow redirects"
    timeout = request.get("timeout")
    if not (isinstance(timeout, tuple) and len(timeout) == 2 and all(t and t > 0 for t in timeout)):
        return "the callback needs explicit (connect, read) timeouts"
    return None


def observe_callback(submission: Submission, reply: str, before: ProblemSnapshot) -> Observation:
    """The legacy callback of ``reply``, modelled up to what the learner would see."""
    started = time.perf_counter()
    observation = _observe_callback(submission, reply, before)
    return attr.evolve(observation, duration=time.perf_counter() - started)


def _observe_callback(submission: Submission, reply: str, before: ProblemSnapshot) -> Observation:
    path = DeliveryPath.CALLBACK.value
    try:
        request = callback_path.callback_request(submission, reply)
    except CallbackNotAllowed as exc:
        return unchanged(path, before, CALLBACK_NOT_ALLOWED, exc.message)
    problem = _request_problem(request, submission)
    try:
        target = parse_callback_url(request["url"])
    except CallbackNotAllowed as exc:
        problem = problem or exc.message
    if problem is None and (target.course_id, target.usage_key, target.user_id) != (
        submission.course_id, submission.usage_key, submission.user_id
    ):
        problem = "the callback URL names another course, problem or learner than the submission"
    if problem:
        return unchanged(path, before, MALFORMED_REQUEST, problem)
    # The LMS's xqueue_callback view: the header is the LMS's own, as a JSON object holding lms_key.
    try:
        update = update_from_callback(
            course_id=target.course_id,
            user_id=target.user_id,
            usage_key=target.usage_key,
            dispatch=target.dispatch,
            xqueue_header=request["data"]["xqueue_header"],
            xqueue_body=request["data"]["xqueue_body"],
        )
    except UpdateRefused as exc:
        return unchanged(path, before, exc.code, f"{exc.message}: the LMS's view answers {exc.lms_status}")
    learner = _learner(update)
    outcome = get_renderer().dry_run(update, before)
    if outcome.error:
        return unchanged(path, before, RENDER_ERROR, outcome.error, learner=learner)
    after = outcome.after
    return _rendered(
        path, outcome, None if after.queued else after.earned, after.max_score, learner=learner
    )


# --- the event path ----------------------------------------------------------------------------------


def avro_round_trip(score: ExternalGraderScoreData) -> ExternalGraderScoreData:
    """``score`` as a consumer of the event bus receives it (openedx-events' own Avro serializer)."""
    signal = EXTERNAL_GRADER_SCORE_SUBMITTED
    wire = serialize_event_data_to_bytes({"score": score}, signal)
    return deserialize_bytes_to_event_data(wire, signal)["score"]


def _avro_changes(sent: ExternalGraderScoreData, received: ExternalGraderScoreData) -> list[str]:
    changes = []
    for name in SCORE_FIELDS:
        before, after = getattr(sent, name), getattr(received, name)
        if before != after:
            if isinstance(before, int | float) and not isinstance(before, bool):
                changes.append(f"{name} {before!r} -> {after!r}")
            else:
                changes.append(f"{name} changed")
    return changes


def observe_event(
    submission: Submission, reply: str, before: ProblemSnapshot, *, duplicate: bool = False
) -> Observation:
    """
    The event of ``reply``, modelled up to what the learner would see. With ``duplicate``, the reply was
    already scored once: edx-submissions answers a second put_result with HTTP 500 and sends nothing.
    """
    started = time.perf_counter()
    observation = _observe_event(submission, reply, before, duplicate)
    return attr.evolve(observation, duration=time.perf_counter() - started)


def _observe_event(submission: Submission, reply: str, before: ProblemSnapshot, duplicate: bool) -> Observation:
    path = DeliveryPath.EVENT.value
    interpretation = event_path.interpret(submission, reply)
    if not interpretation.scorable:
        return unchanged(path, before, UNSCORABLE_REPLY, interpretation.reason, points_earned=None)
    sent = interpretation.score
    if duplicate:
        return unchanged(
            path, before, DUPLICATE_REPLY, "edx-submissions answers a second put_result with HTTP 500",
            points_earned=sent.points_earned, points_possible=sent.points_possible,
        )
    transport_error, detail = None, ""
    try:
        score = avro_round_trip(sent)
    except Exception as exc:  # what the producer would log and drop
        return unchanged(
            path, before, AVRO_FAILED, f"the event bus cannot serialize the event: {type(exc).__name__}",
            points_earned=None,
        )
    changes = _avro_changes(sent, score)
    if changes:
        transport_error, detail = AVRO_CHANGED, "over the event bus: " + ", ".join(changes)
    # The LMS's receiver: score_msg must be JSON, else it raises (edx-submissions rolls back: no score).
    try:
        update = update_from_event(score)
    except (TypeError, ValueError, RecursionError):
        return unchanged(path, before, SCORE_MSG_NOT_JSON, "the LMS's receiver cannot read score_msg")
    learner = _learner(update)
    outcome = get_renderer().dry_run(update, before)
    if outcome.error:
        # The receiver raises; edx-submissions rolls back its score row with the event.
        return unchanged(path, before, RENDER_ERROR, outcome.error, learner=learner)
    return _rendered(
        path, outcome, score.points_earned, score.points_possible,
        error=transport_error, detail=detail, learner=learner,
    )


def observe(path: str, submission: Submission, reply: str, before: ProblemSnapshot, *,
            duplicate: bool = False) -> Observation:
    """The observation of ``path`` (``callback`` or ``event``)."""
    if path == DeliveryPath.CALLBACK:
        # A duplicate callback is the same callback again: capa finds the key consumed and changes nothing.
        return observe_callback(submission, reply, before)
    return observe_event(submission, reply, before, duplicate=duplicate)
