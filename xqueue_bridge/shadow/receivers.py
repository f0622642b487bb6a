"""
Receivers of the bridge's signals that drive the shadow comparison (connected in ``ShadowConfig.ready``).

Each returns at once for a submission that is not in a shadow stage, and none lets an exception out:
the reply, the delivery and the grader's answer never depend on shadow mode. An accepted reply needs no
receiver inside the put_result transaction: it is compared when its delivery is final.
"""

from __future__ import annotations

import logging

from xqueue_bridge.conf import get_setting
from xqueue_bridge.models import Delivery, Submission
from xqueue_bridge.shadow import experiment, sampling, scheduling
from xqueue_bridge.shadow.models import Comparison

log = logging.getLogger(__name__)


def on_reply_refused(sender, submission: Submission, reply: str, reason: str, **kwargs) -> None:
    """Inside the put_result transaction: the event path refused the reply; compare after commit."""
    if not submission.shadowed:
        return
    given_up = submission.status == Submission.Status.FAILED
    context = {
        "attempt": submission.grading_failures,
        "given_up": given_up,
        "notice": given_up and bool(get_setting("NOTIFY_LEARNER_ON_FAILURE")),
    }
    try:
        ids = experiment.plan(submission, Comparison.Trigger.REFUSAL, reply=reply, context=context)
        experiment.run_after_commit(ids)
    except Exception:
        log.exception("shadow comparison of a refused reply to submission %s not planned", submission.pk)


def on_reply_duplicated(sender, submission: Submission, reply: str, **kwargs) -> None:
    """Inside the put_result transaction: the grader sent the accepted reply again; compare after commit."""
    if not submission.shadowed:
        return
    try:
        ids = experiment.plan(submission, Comparison.Trigger.DUPLICATE)
        experiment.run_after_commit(ids)
    except Exception:
        log.exception("shadow comparison of a duplicate reply to submission %s not planned", submission.pk)


def on_delivery_finished(sender, delivery: Delivery, final: bool, **kwargs) -> None:
    """After a delivery's outcome is recorded: compare the result it delivered (see ``scheduling.later``)."""
    if not final or delivery.kind != Delivery.Kind.RESULT or not delivery.submission.shadowed:
        return
    if not sampling.sampled(delivery.submission):  # nothing to compare: nothing to wait in the shadow thread
        return
    scheduling.later(lambda: _compare(delivery), lambda reason: _shed(delivery, reason))


def _compare(delivery: Delivery) -> None:
    try:
        experiment.compare_result(delivery)
    except Exception:  # e.g. the database went away: this result goes uncompared, the learner is served
        log.exception("shadow comparison of delivery %s not recorded", delivery.pk)


def _shed(delivery: Delivery, reason: str) -> None:
    try:
        experiment.shed_result(delivery, reason)
    except Exception:
        log.exception("shed comparison of delivery %s not recorded", delivery.pk)
