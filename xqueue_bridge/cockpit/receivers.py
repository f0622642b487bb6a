"""What the cockpit hears from the flow: each submission and each recorded delivery attempt, counted for
``/metrics``, set as custom attributes and logged as one structured line."""

from __future__ import annotations

import logging

from django.utils import timezone

from xqueue_bridge import monitoring
from xqueue_bridge.cockpit import metrics


def on_submission_received(sender, submission, **kwargs) -> None:
    metrics.SUBMISSIONS.labels(submission.stage).inc()
    monitoring.log_event("submission_received", **monitoring.submission_fields(submission))


def on_delivery_finished(sender, delivery, result, final, **kwargs) -> None:
    outcome = "delivered" if result.ok else ("dead" if final else "retry")
    metrics.DELIVERIES.labels(delivery.path, delivery.kind, outcome).inc()
    metrics.ATTEMPT.labels(delivery.path).observe(result.duration)
    if result.ok and delivery.kind == delivery.Kind.RESULT:
        metrics.LATENCY.labels(delivery.path).observe(
            max(0.0, (timezone.now() - delivery.created_at).total_seconds())
        )
    elif outcome == "retry":
        metrics.RETRIES.labels(delivery.path).inc()
    elif outcome == "dead":
        metrics.DEAD.labels(delivery.path, delivery.kind).inc()
    fields = {
        **monitoring.submission_fields(delivery.submission), "delivery_id": delivery.pk, "path": delivery.path,
        "kind": delivery.kind, "outcome": outcome, "attempt": delivery.attempts,
        "duration_ms": round(1000 * result.duration, 1),
    }
    monitoring.annotate(**fields)
    monitoring.log_event("delivery_finished", logging.INFO if result.ok else logging.WARNING, **fields)
