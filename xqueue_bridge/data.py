"""
Immutable value objects for what flows between the intake, the router, the paths and the renderer.

They carry no behaviour beyond small derived properties, so any stage can be tested with plain values.
"""

from __future__ import annotations

import attr

# The LMS's callback dispatches: a score, or MatlabInput's message that is never a score.
SCORE_UPDATE = "score_update"
UNGRADED_RESPONSE = "ungraded_response"
DISPATCHES = (SCORE_UPDATE, UNGRADED_RESPONSE)
# capa's correctness of an input whose answer waits for its grader.
QUEUED = "incomplete"


@attr.frozen
class CallbackTarget:
    """What the LMS's ``lms_callback_url`` says about the learner and the problem."""

    url: str
    course_id: str
    user_id: str
    usage_key: str
    dispatch: str


@attr.frozen
class SubmitRequest:
    """A validated ``/xqueue/submit/`` request: the LMS's strings, kept verbatim, and what they mean."""

    xqueue_header: str
    xqueue_body: str
    queue_name: str
    lms_callback_url: str
    lms_key: str
    target: CallbackTarget
    anonymous_student_id: str | None
    points_possible: int


@attr.frozen
class GraderReply:
    """A validated ``/xqueue/put_result/`` request."""

    submission_id: int
    submission_key: str
    xqueue_header: str
    xqueue_body: str
    # Bytes of a reply over MAX_REPLY_BYTES (its body is then not kept): a failed grading attempt.
    oversized: int = 0


@attr.frozen
class StageDecision:
    """The stage of a course at submit time and the reason, in words an operator reads."""

    stage: str
    reason: str


@attr.frozen
class ScoreUpdate:
    """What a receiving end hands the renderer: the legacy ``score_update`` call, identity included."""

    course_id: str
    usage_key: str
    queuekey: str
    xqueue_body: str
    via: str  # "callback" or "event"
    user_id: str | None = None  # numeric LMS user id (callback URL)
    anonymous_student_id: str | None = None  # event's user_id
    dispatch: str = "score_update"


@attr.frozen
class ProblemSnapshot:
    """The learner-visible state of one queued problem input (capa's CorrectMap entry, plus its score)."""

    max_score: int = 1
    queuekey: str | None = None
    correctness: str | None = None
    npoints: float | None = None
    msg: str = ""

    @property
    def queued(self) -> bool:
        return self.queuekey is not None

    @property
    def earned(self) -> float:
        """Score earned as capa counts it: npoints if set, else 1 when correct, else 0."""
        if self.npoints is not None:
            return self.npoints
        return 1 if self.correctness in ("correct", "partially-correct") else 0


@attr.frozen
class RenderOutcome:
    """What applying one score update does (or would do, in a dry run) to the learner's problem."""

    valid_reply: bool
    applied: bool  # the queue key matched and was consumed
    before: ProblemSnapshot
    after: ProblemSnapshot
    feedback_html: str
    error: str | None = None  # the update raises where the LMS would (e.g. a non-numeric score)

    @property
    def changed(self) -> bool:
        return self.before != self.after


@attr.frozen
class DeliveryResult:
    """The outcome of one delivery attempt over a path's transport."""

    ok: bool
    duration: float
    error: str | None = None
    retryable: bool = True
    # Event path: the outcome at each receiving end this attempt sent to, by name (None: that end confirmed).
    ends: tuple[EndOutcome, ...] = ()


@attr.frozen
class EndOutcome:
    """One receiving end's answer to one send of the score event: confirmed, or the error it raised."""

    end: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
