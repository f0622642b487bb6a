"""Celery tasks for operators who run Celery (DELIVERY_MODE "celery"): the same code the worker runs."""

from celery import shared_task

from xqueue_bridge.outbox.attempts import attempt
from xqueue_bridge.outbox.runners import CELERY_TASK, drain


@shared_task(name=CELERY_TASK, acks_late=True, ignore_result=True)
def attempt_task(delivery_id: int) -> None:
    """Attempt one delivery (a no-op if it is not due or another process holds it)."""
    attempt(delivery_id)


@shared_task(name="xqueue_bridge.drain", ignore_result=True)
def drain_task() -> int:
    """Attempt every due delivery; schedule it (celery beat) to pick up retries."""
    return drain()
