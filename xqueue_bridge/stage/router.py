"""
The router: for an accepted grader reply, the path the submission's stage makes authoritative.

The stage was fixed when the learner submitted. ``callback`` and ``shadow_callback`` deliver by the
legacy HTTP callback, which forwards any reply verbatim and lets the LMS judge it (as XQueue does).
``shadow_event`` and ``event`` deliver by the event, which needs a reply edx-submissions can score; a
reply it cannot score is refused with the reason, the submission goes back to the queue for another
grading, and after MAX_GRADING_ATTEMPTS it is given up and the learner told (a failure notice), where
edx-submissions would re-queue it silently and leave the learner "queued".

Must run inside the put_result transaction.
"""

from __future__ import annotations

import attr
from django.utils import timezone

from xqueue_bridge import signals
from xqueue_bridge.conf import get_setting
from xqueue_bridge.models import Delivery, DeliveryPath, Submission
from xqueue_bridge.outbox.queueing import enqueue, enqueue_failure_notice
from xqueue_bridge.transports import event as event_path


@attr.frozen
class Routed:
    """What became of a reply: a delivery was queued, or the reply was refused (and why, and what next)."""

    delivery: Delivery | None
    refusal: str | None = None


def route_reply(submission: Submission, reply: str) -> Routed:
    path = submission.authoritative_path
    event_data = None
    if path == DeliveryPath.EVENT:
        interpretation = event_path.interpret(submission, reply)
        if not interpretation.scorable:
            routed = refuse_attempt(submission, interpretation.reason, path=DeliveryPath.EVENT)
            signals.reply_refused.send(
                sender=Submission, submission=submission, reply=reply, reason=interpretation.reason
            )
            return attr.evolve(routed, refusal=f"Reply not scored on the event path: {routed.refusal}")
        event_data = attr.asdict(interpretation.score)
    submission.grader_reply = reply
    submission.replied_at = timezone.now()
    submission.transition(Submission.Status.GRADED)
    submission.save(update_fields=["grader_reply", "replied_at", "status", "status_changed_at"])
    delivery = enqueue(submission, path=path, body=reply, event_data=event_data)
    signals.reply_accepted.send(sender=Submission, submission=submission, delivery=delivery)
    return Routed(delivery=delivery)


def refuse_attempt(submission: Submission, reason: str, *, path: str | None = None) -> Routed:
    """
    Count a failed grading attempt of ``submission`` (a reply the event path cannot score, or one over the
    size limit on any path): back in the queue for a fresh grading, or, after MAX_GRADING_ATTEMPTS, failed
    with the learner's failure notice over ``path`` (default: the stage's authoritative path).
    """
    attempts_allowed = get_setting("MAX_GRADING_ATTEMPTS")
    submission.grading_failures += 1
    submission.pullkey = ""
    submission.last_refusal = reason
    if submission.grading_failures >= attempts_allowed:
        submission.transition(Submission.Status.FAILED)
        what_next = (
            f"grading attempt {submission.grading_failures} of {attempts_allowed}: the submission is given up"
        )
    else:
        submission.transition(Submission.Status.QUEUED)
        what_next = (
            f"grading attempt {submission.grading_failures} of {attempts_allowed}: "
            "the submission is back in the queue to be graded again"
        )
    submission.save(
        update_fields=["grading_failures", "pullkey", "last_refusal", "status", "status_changed_at"]
    )
    notice = None
    if submission.status == Submission.Status.FAILED and get_setting("NOTIFY_LEARNER_ON_FAILURE"):
        notice = enqueue_failure_notice(submission, path=path or submission.authoritative_path)
        what_next += " and the learner is told it could not be graded"
    return Routed(delivery=notice, refusal=f"{reason} ({what_next})")
