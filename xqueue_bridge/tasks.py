"""Celery tasks for operators who run Celery (DELIVERY_MODE "celery"): the same code the worker runs."""

from celery import shared_task

from xqueue_bridge import delivery


@shared_task(name="xqueue_bridge.deliver", acks_late=True, ignore_result=True)
def deliver(delivery_id: int) -> None:
    """Attempt one delivery (a no-op if it is not due or another process holds it)."""
    delivery.attempt(delivery_id)


@shared_task(name="xqueue_bridge.drain", ignore_result=True)
def drain() -> int:
    """Attempt every due delivery; schedule it (celery beat) to pick up retries."""
    return delivery.drain()
