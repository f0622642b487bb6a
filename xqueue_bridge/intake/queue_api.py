"""
The public Python API of the queue: what the XQueue views call, and what other code may call.

``submit`` records an LMS submission with the stage of its course; ``pull`` serves the oldest waiting
submission of a queue to one grader under a fresh pullkey; ``put_result`` accepts a grader's reply and
queues its delivery in one transaction.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import timedelta

import attr
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from xqueue_bridge import signals
from xqueue_bridge.conf import get_setting
from xqueue_bridge.data import GraderReply, StageDecision, SubmitRequest
from xqueue_bridge.errors import AlreadyAnswered, IncorrectKey, InvalidRequest, Superseded, UnknownSubmission
from xqueue_bridge.intake.parsing import check_queue
from xqueue_bridge.models import Stage, Submission, callback_digest
from xqueue_bridge.stage.decide import decide_stage
from xqueue_bridge.stage.router import refuse_attempt, route_reply

FILES_PREFIX = "xqueue-files"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@attr.frozen
class PutOutcome:
    """What ``put_result`` did with a reply."""

    submission: Submission
    duplicate: bool = False
    refusal: str | None = None
    too_large: bool = False  # refused for its size (HTTP 413), a failed grading attempt on every path

    @property
    def accepted(self) -> bool:
        return self.refusal is None


# --- submit ------------------------------------------------------------------------------------------


def _stage_for(request: SubmitRequest) -> StageDecision:
    """The course's stage now, narrowed where this submission cannot take the event path."""
    decision = decide_stage(request.target.course_id)  # the flags' own key cache parses it
    if decision.stage == Stage.CALLBACK:
        return decision
    if request.target.dispatch != "score_update":
        return StageDecision(
            Stage.CALLBACK, f"callback: dispatch {request.target.dispatch} is carried by the callback only"
        )
    if request.anonymous_student_id is None:
        if decision.stage == Stage.SHADOW_CALLBACK:
            return StageDecision(Stage.CALLBACK, "callback: no anonymous_student_id to compare the event path with")
        raise InvalidRequest(
            f"xqueue_body has no student_info.anonymous_student_id, which the event path needs "
            f"(course {request.target.course_id} is in stage {decision.stage})"
        )
    return decision


def store_files(files: Mapping) -> dict:
    """Save uploads through Django storage under an unguessable folder; returns {name: storage path}."""
    stored = {}
    try:
        for name, upload in files.items():
            safe = _SAFE_NAME.sub("_", os.path.basename(name)).lstrip(".")[:100] or "file"
            path = f"{FILES_PREFIX}/{secrets.token_urlsafe(24)}/{safe}"
            stored[name] = default_storage.save(path, upload)
    except BaseException:
        delete_files(stored.values())
        raise
    return stored


def delete_files(paths) -> None:
    for path in paths:
        default_storage.delete(path)


def submit(request: SubmitRequest, files: Mapping | None = None) -> tuple[Submission, int]:
    """Record a submission (retiring the learner's older live one); returns it and the queue length."""
    decision = _stage_for(request)
    stored = store_files(files or {})
    try:
        submission = _record_submission(request, decision, stored)
    except BaseException:  # nothing recorded: no file is left behind
        delete_files(stored.values())
        raise
    return submission, _count_servable(request.queue_name)  # the queue was checked by parse_submit


def _record_submission(request: SubmitRequest, decision: StageDecision, stored: dict) -> Submission:
    digest = callback_digest(request.lms_callback_url)
    with transaction.atomic():
        Submission.move(
            Submission.objects.filter(callback_digest=digest), Submission.LIVE, Submission.Status.SUPERSEDED,
            pullkey="",
        )
        submission = Submission.objects.create(
            queue_name=request.queue_name,
            xqueue_header=request.xqueue_header,
            xqueue_body=request.xqueue_body,
            lms_callback_url=request.lms_callback_url,
            callback_digest=digest,
            lms_key=request.lms_key,
            course_id=request.target.course_id,
            usage_key=request.target.usage_key,
            user_id=request.target.user_id,
            dispatch=request.target.dispatch,
            anonymous_student_id=request.anonymous_student_id or "",
            points_possible=request.points_possible,
            files=stored,
            stage=decision.stage,
            stage_reason=decision.reason[:255],
        )
    return submission


# --- pull --------------------------------------------------------------------------------------------


def _servable(queue_name: str) -> list:
    """
    What a grader may pull from ``queue_name``, as two queries: the queued submissions (a range of the
    index ``xqb_sub_queue_next``), and the pulled ones whose grader has not answered within PULL_TIMEOUT
    (the pulled rows by pull time: no more than the pulls in flight). An OR of both read every row the
    queue ever had, and sorted them.
    """
    cutoff = timezone.now() - timedelta(seconds=get_setting("PULL_TIMEOUT"))
    return [
        _in_status(queue_name, Submission.Status.QUEUED),
        _in_status(queue_name, Submission.Status.PULLED).filter(pulled_at__lt=cutoff),
    ]


def _in_status(queue_name: str, status: str):
    # The status is named as a range of one value and ordered by (pull_candidates): a planner that sees
    # ``status = X`` drops it from the ORDER BY and may walk the primary key instead, filtering, as if the
    # waiting rows were spread over the ids; they are the newest, behind every graded row of the queue
    # (PostgreSQL: 213 ms a pull with 100,000 graded ahead of 100,000 queued, against 0.3 ms on the index).
    return Submission.objects.filter(queue_name=queue_name, status__gte=status, status__lte=status)


def _count_servable(queue_name: str) -> int:
    return sum(query.count() for query in _servable(queue_name))


def queue_length(queue_name: str) -> int:
    """Submissions of ``queue_name`` a grader could pull now."""
    return _count_servable(check_queue(queue_name))


def pull_candidates(queue_name: str) -> list:
    """
    The queries that find the submission a pull serves, each walking its index range in id order and
    stopping at the first row: a pull costs the same at a thousand waiting submissions as at a hundred
    thousand. The oldest of their rows is served.
    """
    queries = _servable(queue_name)
    if connection.features.has_select_for_update_skip_locked:
        queries = [query.select_for_update(skip_locked=True) for query in queries]
    return [query.order_by("status", "id")[:1] for query in queries]


def pull(queue_name: str) -> Submission | None:
    """
    Serve the oldest servable submission to one grader, under a new random pullkey.

    Rows are locked with SKIP LOCKED where the database has it, so concurrent graders take different rows;
    the conditional update re-checks the row (status and previous key) so that even without row locks no
    row is served twice within the pull timeout.
    """
    check_queue(queue_name)
    for _ in range(5):
        # The queries are built before the transaction: on SQLite every writer waits while one holds it.
        candidates = pull_candidates(queue_name)
        with transaction.atomic():
            found = [row for query in candidates for row in query]
            submission = min(found, key=lambda row: row.pk, default=None)
            if submission is None:
                return None
            now = timezone.now()
            key = secrets.token_hex(16)
            taken = Submission.move(
                Submission.objects.filter(pk=submission.pk, pullkey=submission.pullkey),
                submission.status, Submission.Status.PULLED,
                pullkey=key, pulled_at=now, status_changed_at=now, pull_count=F("pull_count") + 1,
            )
            if taken:
                submission.status, submission.pullkey, submission.pulled_at = Submission.Status.PULLED, key, now
                submission.status_changed_at, submission.pull_count = now, submission.pull_count + 1
                return submission
    return None


def grader_payload(submission: Submission, file_url: Callable[[str], str]) -> dict:
    """The get_submission content: header with id and pullkey, the LMS body verbatim, file URLs."""
    return {
        "xqueue_header": json.dumps({"submission_id": submission.pk, "submission_key": submission.pullkey}),
        "xqueue_body": submission.xqueue_body,
        "xqueue_files": json.dumps({name: file_url(path) for name, path in submission.files.items()}),
    }


# --- put_result --------------------------------------------------------------------------------------


def _same_key(given: str, stored: str) -> bool:
    return bool(stored) and hmac.compare_digest(given.encode("utf-8"), stored.encode("utf-8"))


def put_result(reply: GraderReply, check_queue: Callable[[str], None] | None = None) -> PutOutcome:
    """
    Accept a grader's reply and queue its delivery, in one transaction; the grader hears of success only
    after it commits. The same reply sent again (a grader retrying after a timeout) is a success that
    delivers nothing new. ``check_queue`` raises if the grader may not answer the submission's queue.
    """
    with transaction.atomic():
        submission = Submission.objects.select_for_update().filter(pk=reply.submission_id).first()
        if submission is None:
            raise UnknownSubmission(f"Submission {reply.submission_id} does not exist")
        if check_queue is not None:
            check_queue(submission.queue_name)
        if submission.status == Submission.Status.GRADED:
            if _same_key(reply.submission_key, submission.pullkey):
                if reply.xqueue_body == submission.grader_reply and not reply.oversized:
                    signals.reply_duplicated.send(sender=Submission, submission=submission, reply=reply.xqueue_body)
                    return PutOutcome(submission=submission, duplicate=True)
                raise AlreadyAnswered(
                    f"Submission {submission.pk} already has an accepted result; a different second reply is refused"
                )
            raise IncorrectKey("Incorrect key for submission")
        if submission.status == Submission.Status.SUPERSEDED:
            raise Superseded(
                f"Submission {submission.pk} was replaced by a newer submission of the same learner and problem; "
                "its result is no longer needed"
            )
        if submission.status != Submission.Status.PULLED or not _same_key(reply.submission_key, submission.pullkey):
            raise IncorrectKey("Incorrect key for submission")
        if reply.oversized:
            limit = get_setting("MAX_REPLY_BYTES")
            routed = refuse_attempt(
                submission, f"the reply has {reply.oversized} bytes, over the limit of {limit} (MAX_REPLY_BYTES)",
            )
            return PutOutcome(submission=submission, refusal=routed.refusal, too_large=True)
        routed = route_reply(submission, reply.xqueue_body)
    return PutOutcome(submission=submission, refusal=routed.refusal)
