"""
The standalone sink's Python API: what the LMS does when a learner submits, and what tests and the demo
read back.

The receiving ends (``views.xqueue_callback`` and ``receivers``) reach the state through the renderer;
``locate_problem`` and ``record_outcome`` are its persistence.
"""

from __future__ import annotations

from django.db import transaction

from xqueue_bridge.data import ProblemSnapshot, RenderOutcome, ScoreUpdate
from xqueue_bridge.errors import UnknownProblem
from xqueue_bridge.render.capa import feedback_html
from xqueue_bridge.sink.models import LearnerUpdate, ProblemState, storable

QUEUED = "incomplete"  # capa's correctness of a queued input


def begin_attempt(
    course_id: str,
    usage_key: str,
    user_id: str | int,
    anonymous_student_id: str,
    queuekey: str,
    max_score: int = 1,
    msg: str = "",
) -> ProblemState:
    """
    Record that the learner submitted and the answer is queued under ``queuekey``, as capa does on submit.

    The entry becomes queued: correctness ``"incomplete"``, no points, ``msg`` (capa keeps the queue's
    reply there). Earlier results of the learner stay in the update log; a key the problem already had a
    result applied under is refused, as the LMS never reuses one.
    """
    if not queuekey or len(queuekey) > 255:
        raise ValueError("queuekey must be a non-empty string of at most 255 characters")
    if max_score < 0:
        raise ValueError(f"max_score must be 0 or more, not {max_score}")
    user_id = str(user_id)
    with transaction.atomic():
        state = ProblemState.objects.select_for_update().filter(usage_key=usage_key, user_id=user_id).first()
        if state is None:
            state = ProblemState(usage_key=usage_key, user_id=user_id)
        elif LearnerUpdate.objects.filter(problem=state, applied_key=queuekey).exists():
            raise ValueError(f"a result was already applied under queue key for {usage_key}; use a new key")
        state.course_id = course_id
        state.anonymous_student_id = anonymous_student_id
        state.max_score = max_score
        queued = ProblemSnapshot(max_score=max_score, queuekey=queuekey, correctness=QUEUED, msg=msg)
        state.set_snapshot(queued, feedback_html(queued))
        state.save()
    return state


def _lookup(
    usage_key: str,
    *,
    course_id: str | None = None,
    user_id: str | None = None,
    anonymous_student_id: str | None = None,
) -> dict:
    if (user_id is None) == (anonymous_student_id is None):
        raise ValueError("name the learner by exactly one of user_id and anonymous_student_id")
    lookup = {"usage_key": usage_key}
    if course_id is not None:
        lookup["course_id"] = course_id
    if user_id is not None:
        lookup["user_id"] = str(user_id)
    else:
        lookup["anonymous_student_id"] = anonymous_student_id
    return lookup


def problem_state(
    usage_key: str,
    *,
    course_id: str | None = None,
    user_id: str | int | None = None,
    anonymous_student_id: str | None = None,
) -> ProblemState:
    """The learner's state of ``usage_key`` (by numeric user id or anonymous id); UnknownProblem if none."""
    lookup = _lookup(
        usage_key,
        course_id=course_id,
        user_id=None if user_id is None else str(user_id),
        anonymous_student_id=anonymous_student_id,
    )
    try:
        return ProblemState.objects.get(**lookup)
    except ProblemState.DoesNotExist:
        raise UnknownProblem(_unknown_message(lookup))


def learner_updates(
    usage_key: str,
    *,
    course_id: str | None = None,
    user_id: str | int | None = None,
    anonymous_student_id: str | None = None,
) -> list[LearnerUpdate]:
    """Every update handed to the learner's problem, oldest first (empty if the problem is unknown)."""
    lookup = _lookup(
        usage_key,
        course_id=course_id,
        user_id=None if user_id is None else str(user_id),
        anonymous_student_id=anonymous_student_id,
    )
    return list(LearnerUpdate.objects.filter(**{f"problem__{name}": value for name, value in lookup.items()}))


def locate_problem(update: ScoreUpdate, *, lock: bool = False) -> ProblemState:
    """
    The state ``update`` is for, locked for update if ``lock`` (inside a transaction).

    Callback updates name the learner by course, usage key and numeric user id (the callback URL);
    event updates by usage key and anonymous student id (the event carries no numeric id), without
    access checks, as the LMS's receiver does.
    """
    if update.via == LearnerUpdate.Via.EVENT:
        if not update.anonymous_student_id:
            raise UnknownProblem(f"an event update for {update.usage_key} names no anonymous student id")
        lookup = _lookup(update.usage_key, anonymous_student_id=update.anonymous_student_id)
    else:
        if not update.user_id:
            raise UnknownProblem(f"a callback update for {update.usage_key} names no user id")
        lookup = _lookup(update.usage_key, course_id=update.course_id, user_id=update.user_id)
    queryset = ProblemState.objects.select_for_update() if lock else ProblemState.objects
    try:
        return queryset.get(**lookup)
    except ProblemState.DoesNotExist:
        raise UnknownProblem(_unknown_message(lookup))


def record_outcome(
    state: ProblemState, update: ScoreUpdate, outcome: RenderOutcome, *, ungraded_msg: str | None = None
) -> LearnerUpdate:
    """Save what ``outcome`` changed on ``state`` and append the update to the log (caller's transaction)."""
    if outcome.changed:
        state.set_snapshot(outcome.after, outcome.feedback_html)
        state.save()
    if ungraded_msg is not None:
        state.ungraded_msg = storable(ungraded_msg)
        state.save(update_fields=["ungraded_msg", "updated_at"])
    return LearnerUpdate.objects.create(
        problem=state,
        queuekey=None if update.queuekey is None else storable(str(update.queuekey)),
        via=update.via,
        dispatch=update.dispatch,
        valid_reply=outcome.valid_reply,
        applied=outcome.applied,
        applied_key=update.queuekey if outcome.applied else None,
        npoints=outcome.after.npoints,
        correctness=outcome.after.correctness,
        error=outcome.error or "",
    )


def _unknown_message(lookup: dict) -> str:
    named = ", ".join(f"{name}={value!r}" for name, value in lookup.items())
    return f"no problem state for {named}; the learner's submission must be recorded first (begin_attempt)"
