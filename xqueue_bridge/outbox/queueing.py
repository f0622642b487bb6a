"""
Writing to the outbox: a Delivery row, in the caller's transaction, started once that commits.

Nothing here sends anything. After commit, ``signals.delivery_enqueued`` tells the configured runner
(``xqueue_bridge.outbox.runners``) to start an attempt; whatever is not started then is picked up by the
drainer of ``serve``, ``xqueue-bridge worker`` or Celery beat.

When this process attempts the delivery itself right after commit (DELIVERY_MODE "thread" or "sync"), the
row is written already claimed: a lease token and expiry, one attempt counted, as ``attempts._claim`` would
leave it. The runner attempts it with that token, which saves the claim's own write transaction. If the
process dies before the attempt, the lease expires and the drainer claims the row as any other
(``docs/decisions/0005``).
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

import attr
from django.db import transaction
from django.utils import timezone

from xqueue_bridge import signals
from xqueue_bridge.conf import get_setting
from xqueue_bridge.models import Delivery, DeliveryPath, Submission
from xqueue_bridge.transports import event as event_path

FAILURE_NOTICE_MSG = (
    '<div class="capa_alert">This submission could not be graded. Please check it and submit it again; '
    "if that does not help, tell the course staff.</div>"
)


def failure_notice_body() -> str:
    """XQueue's failure reply to the LMS: no correctness, 0 points, a message for the learner."""
    return json.dumps({"correct": None, "score": 0, "msg": FAILURE_NOTICE_MSG})


# The modes whose runner attempts a delivery in this process as soon as its row commits.
ATTEMPTED_AFTER_COMMIT = ("thread", "sync")


def start_after_commit(delivery_id: int, lease_token: str | None = None) -> None:
    """
    Have the runner attempt the delivery once the current transaction commits (``lease_token``: the lease
    the row was written with, if any). Robust: the row is committed by then, so a runner that cannot start
    (a broker down) leaves it pending for the drainer instead of turning an accepted reply into an error
    answer; a row written claimed waits for its lease to expire first.
    """
    transaction.on_commit(
        lambda: signals.delivery_enqueued.send(sender=Delivery, delivery_id=delivery_id, lease_token=lease_token),
        robust=True,
    )


def claimed_fields() -> dict:
    """The fields of a row written already claimed by this process (see the module's docstring)."""
    return {
        "lease_token": secrets.token_hex(8),
        "lease_expires_at": timezone.now() + timedelta(seconds=get_setting("DELIVERY_LEASE")),
        "attempts": 1,
    }


def enqueue(submission: Submission, *, path: str, body: str, event_data: dict | None = None,
            kind: str = Delivery.Kind.RESULT) -> Delivery:
    """Write a delivery of ``body`` over ``path`` (inside the caller's transaction) and start it after commit."""
    claim = claimed_fields() if get_setting("DELIVERY_MODE") in ATTEMPTED_AFTER_COMMIT else {}
    delivery = Delivery.objects.create(submission=submission, kind=kind, path=path, body=body, event_data=event_data,
                                       **claim)
    start_after_commit(delivery.pk, claim.get("lease_token"))
    return delivery


def enqueue_failure_notice(submission: Submission, *, path: str) -> Delivery:
    """Queue a failure notice to the learner over ``path`` (inside the caller's transaction)."""
    body = failure_notice_body()
    event_data = None
    if path == DeliveryPath.EVENT:  # the event edx-submissions would build for this reply: 0 points
        event_data = attr.asdict(event_path.interpret(submission, body).score)
    return enqueue(submission, path=path, body=body, event_data=event_data, kind=Delivery.Kind.FAILURE_NOTICE)
