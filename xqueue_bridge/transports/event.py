"""
The event path: the reply becomes ``ExternalGraderScoreData`` as edx-submissions 4.0.2 builds it (given the
same ``points_possible``, which the LMS's XQueue client does not send: see the POINTS_POSSIBLE setting),
and ``EXTERNAL_GRADER_SCORE_SUBMITTED`` is sent with openedx-events (to in-process receivers and, where
``EVENT_BUS_PRODUCER_CONFIG`` says so, to the event bus).

edx-submissions' reading of a reply (its ``put_result``): the body is JSON; ``score`` is a fraction of
tests passed and ``points_earned = round(score * points_possible)`` with Python's half-to-even rounding;
a score that cannot be multiplied and rounded, rounds below zero, or rounds above what its
``Score.points_earned`` column takes, is not scored (edx-submissions re-queues the submission silently).
``correct`` and ``msg`` are not read here: the LMS reads them from ``score_msg``, the raw reply.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable

import attr
from django.conf import settings
from django.db import connection
from openedx_events.event_bus import NoEventBusProducer, get_producer
from openedx_events.learning.data import ExternalGraderScoreData
from openedx_events.learning.signals import EXTERNAL_GRADER_SCORE_SUBMITTED

from xqueue_bridge.data import DeliveryResult
from xqueue_bridge.errors import json_type
from xqueue_bridge.models import Submission
from xqueue_bridge.text import excerpt


def max_points() -> int:
    """
    The most points edx-submissions scores: its ``Score.points_earned`` is a PositiveIntegerField, and its
    serializer checks the value against that column's range on the database in use (2**31 - 1 on
    PostgreSQL, 2**32 - 1 on MySQL/MariaDB, 2**63 - 1 on SQLite); a larger value is re-queued.
    """
    return connection.ops.integer_field_range("PositiveIntegerField")[1]


@attr.frozen
class EventInterpretation:
    """What the event path makes of one reply: the event's data, or why there is no event."""

    score: ExternalGraderScoreData | None
    reason: str | None = None

    @property
    def scorable(self) -> bool:
        return self.score is not None


def points_earned(reply: str, points_possible: int) -> tuple[int | None, str | None]:
    """``round(score * points_possible)`` as edx-submissions computes it, or (None, why not)."""
    expected = 'expected a JSON object such as {"correct": true, "score": 0.75, "msg": "<p>...</p>"}'
    try:
        parsed = json.loads(reply)
    except ValueError:
        return None, f"the reply is not JSON; {expected}"
    except RecursionError:
        return None, f"the reply is nested too deeply; {expected}"
    if not isinstance(parsed, dict):
        return None, f"the reply is {json_type(parsed)}, not an object; {expected}"
    if "score" not in parsed or parsed["score"] is None:
        return None, f"the reply has no score; {expected}"
    score = parsed["score"]
    if not isinstance(score, int | float):  # bool counts as a number, as it does in Python arithmetic
        return None, f"score {excerpt(score)} is not a number; expected a fraction of tests passed, 0.0 to 1.0"
    if isinstance(score, float) and not math.isfinite(score):
        return None, f"score {excerpt(score)} is not a finite number; expected a fraction of tests passed, 0.0 to 1.0"
    try:
        points = round(score * points_possible)
    except (ValueError, OverflowError):
        return None, f"score {excerpt(score)} cannot be turned into points; expected a fraction from 0.0 to 1.0"
    if points < 0:
        return None, f"score {excerpt(score)} is negative; expected a fraction of tests passed, 0.0 to 1.0"
    if points > max_points():
        return None, (
            f"score {excerpt(score)} gives {excerpt(points)} points, more than {max_points()}; expected 0.0 to 1.0"
        )
    return points, None


def interpret(submission: Submission, reply: str) -> EventInterpretation:
    """The event edx-submissions would send for ``reply`` to ``submission``, or why it would send none."""
    points, reason = points_earned(reply, submission.points_possible)
    if points is None:
        return EventInterpretation(score=None, reason=reason)
    return EventInterpretation(
        score=ExternalGraderScoreData(
            points_possible=submission.points_possible,
            points_earned=points,
            course_id=submission.course_id,
            score_msg=reply,
            submission_id=submission.pk,
            user_id=submission.anonymous_student_id,
            module_id=submission.usage_key,
            queue_key=submission.lms_key,
            queue_name=submission.queue_name,
        )
    )


def score_from_fields(fields: dict) -> ExternalGraderScoreData:
    return ExternalGraderScoreData(**fields)


NO_RECEIVING_END = (
    "no receiving end for the score event: turn RECEIVING_ENDS on (standalone sink), configure the event bus "
    "(EVENT_BUS_PRODUCER, EVENT_BUS_PRODUCER_CONFIG for this event type, and a Redis URL), or run the bridge "
    "inside the LMS, whose receiver is then connected"
)

# In-process receiving ends of the score event, by name: whether each would take an event sent now.
_receiving_ends: dict[str, Callable[[], bool]] = {}


def register_receiving_end(name: str, active: Callable[[], bool]) -> None:
    """
    Declare an in-process receiver of the score event (the standalone sink's, an LMS's own) and how to
    tell whether it takes events now. The transport knows ends only through this registry.
    """
    _receiving_ends[name] = active


def unregister_receiving_end(name: str) -> None:
    _receiving_ends.pop(name, None)


def event_bus_configured() -> bool:
    """Whether openedx-events would hand the score event to a real producer (an enabled topic and a producer)."""
    topics = getattr(settings, "EVENT_BUS_PRODUCER_CONFIG", {}).get(EXTERNAL_GRADER_SCORE_SUBMITTED.event_type, {})
    if not any(isinstance(topic, dict) and topic.get("enabled") is True for topic in topics.values()):
        return False
    return not isinstance(get_producer(), NoEventBusProducer)


def receiving_ends() -> list[str]:
    """The names of the ends a score event sent now would reach (in-process receivers, then the event bus)."""
    ends = [name for name, active in list(_receiving_ends.items()) if active()]
    if event_bus_configured():
        ends.append("event bus")
    return ends


def send_score_event(score: ExternalGraderScoreData) -> DeliveryResult:
    """Send the event once. A receiver that raises is a failed delivery, retried by the caller's policy."""
    if not receiving_ends():  # the event would go nowhere, yet count as delivered
        return DeliveryResult(ok=False, duration=0.0, error=NO_RECEIVING_END)
    started = time.monotonic()
    try:
        EXTERNAL_GRADER_SCORE_SUBMITTED.send_event(send_robust=False, score=score)
    except Exception as exc:  # any receiver's failure: the result has not reached the learner
        # Kept whole: the outbox redacts secrets (the queue key) before it cuts the message to length.
        return DeliveryResult(
            ok=False, duration=time.monotonic() - started, error=f"receiver raised {type(exc).__name__}: {exc}"
        )
    return DeliveryResult(ok=True, duration=time.monotonic() - started)
