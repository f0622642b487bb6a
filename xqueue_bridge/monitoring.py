"""
What the bridge tells monitoring about one request or delivery: edx-django-utils custom attributes (New
Relic, Datadog) and structured log lines, both carrying the submission id, course, queue and stage.

Only these fields are ever passed on; keys (``lms_key``, pullkeys), headers, replies and event data never.
"""

from __future__ import annotations

import logging

from edx_django_utils.monitoring import set_custom_attribute

log = logging.getLogger("xqueue_bridge.monitoring")

PREFIX = "xqueue_bridge."


def submission_fields(submission) -> dict:
    """The fields of a submission that monitoring may see."""
    return {
        "submission_id": submission.pk,
        "course": submission.course_id,
        "queue": submission.queue_name,
        "stage": submission.stage,
    }


def annotate(**fields) -> None:
    """Set each field as a custom attribute of the current transaction (a no-op without an APM agent)."""
    for name, value in fields.items():
        if value is not None:
            set_custom_attribute(PREFIX + name, value)


def _value(value) -> str:
    text = str(value)
    return f'"{text}"' if not text or any(char in text for char in ' ="') else text


def log_event(event: str, level: int = logging.INFO, **fields) -> None:
    """One line ``event key=value ...``; the fields are also on the record (``record.xqb``) for JSON logs."""
    line = " ".join([event, *(f"{name}={_value(value)}" for name, value in fields.items())])
    log.log(level, line, extra={"xqb": {"event": event, **fields}})
