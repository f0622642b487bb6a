"""
The event path: the reply becomes ``ExternalGraderScoreData`` as edx-submissions 4.0.2 builds it (given the
same ``points_possible``, which the LMS's XQueue client does not send: see the POINTS_POSSIBLE setting),
and ``EXTERNAL_GRADER_SCORE_SUBMITTED`` is handed to each of its receiving ends on its own: the in-process
receivers registered here (called as the signal calls them) and, where ``EVENT_BUS_PRODUCER_CONFIG`` says
so, each enabled event-bus topic through the configured producer (docs/decisions/0010).

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
from collections.abc import Callable, Iterable

import attr
from django.conf import settings
from django.db import connection
from openedx_events.data import EventsMetadata
from openedx_events.event_bus import NoEventBusProducer, get_producer
from openedx_events.learning.data import ExternalGraderScoreData
from openedx_events.learning.signals import EXTERNAL_GRADER_SCORE_SUBMITTED

from xqueue_bridge.data import DeliveryResult, EndOutcome
from xqueue_bridge.errors import ConfigurationError, json_type
from xqueue_bridge.models import Submission
from xqueue_bridge.text import excerpt
from xqueue_bridge.transports import bus


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
BUS_END_PREFIX = "event bus: "


@attr.frozen
class ReceivingEnd:
    """An in-process receiver of the score event, and how to tell whether it takes events now."""

    name: str
    active: Callable[[], bool]
    receiver: Callable[..., object]


# In-process receiving ends of the score event, by name.
_receiving_ends: dict[str, ReceivingEnd] = {}


def register_receiving_end(name: str, active: Callable[[], bool], receiver: Callable[..., object] | None = None,
                           ) -> None:
    """
    Declare an in-process receiver of the score event (the standalone sink's, an LMS's own): its name, how
    to tell whether it takes events now, and the receiver itself. The transport knows ends only through this
    registry, and delivers to each on its own (docs/decisions/0010), calling it as the signal would.
    """
    if receiver is None:
        raise ConfigurationError(
            f"receiving end {name!r}: pass its receiver (register_receiving_end(name, active, receiver)); the "
            "bridge delivers the score event to each receiving end on its own, so a retry reaches only the ends "
            "that failed (docs/decisions/0010)"
        )
    _receiving_ends[name] = ReceivingEnd(name=name, active=active, receiver=receiver)


def unregister_receiving_end(name: str) -> None:
    _receiving_ends.pop(name, None)


def bus_topics() -> dict[str, str]:
    """The enabled event-bus topics of the score event, with their event key field (EVENT_BUS_PRODUCER_CONFIG)."""
    topics = getattr(settings, "EVENT_BUS_PRODUCER_CONFIG", {}).get(EXTERNAL_GRADER_SCORE_SUBMITTED.event_type, {})
    return {
        topic: config.get("event_key_field", "score.submission_id")
        for topic, config in topics.items()
        if isinstance(config, dict) and config.get("enabled") is True
    }


def event_bus_configured() -> bool:
    """Whether openedx-events would hand the score event to a real producer (an enabled topic and a producer)."""
    return bool(bus_topics()) and not isinstance(get_producer(), NoEventBusProducer)


def receiving_ends() -> list[str]:
    """The names of the ends a score event sent now would reach (in-process receivers, then each bus topic)."""
    ends = [end.name for end in list(_receiving_ends.values()) if end.active()]
    if event_bus_configured():
        ends.extend(BUS_END_PREFIX + topic for topic in bus_topics())
    return ends


def event_metadata() -> EventsMetadata:
    """Fresh metadata of the score event (its id, time, and source from EVENTS_SERVICE_NAME)."""
    return EXTERNAL_GRADER_SCORE_SUBMITTED.generate_signal_metadata()


def _send_to(end: str, score: ExternalGraderScoreData, metadata: EventsMetadata) -> None:
    """Hand the event to one end: an in-process receiver as the signal calls it, or one bus topic."""
    signal = EXTERNAL_GRADER_SCORE_SUBMITTED
    if end.startswith(BUS_END_PREFIX):
        topic = end.removeprefix(BUS_END_PREFIX)
        bus.reporting(get_producer()).send(
            signal=signal, topic=topic, event_key_field=bus_topics()[topic],
            event_data={"score": score}, event_metadata=metadata,
        )
        return
    # The keyword arguments a receiver of an OpenEdxPublicSignal gets from send_event.
    _receiving_ends[end].receiver(sender=None, signal=signal, score=score, metadata=metadata, from_event_bus=False)


def send_score_event(score: ExternalGraderScoreData, *, confirmed: Iterable[str] = ()) -> DeliveryResult:
    """
    Send the event once to every end that takes it now, except those that ``confirmed`` it at an earlier
    attempt. A receiver that raises (or a bus write that fails) fails its end, retried by the caller's policy;
    the ends that took the event are named in the result so that a retry does not send to them again.
    """
    ends = receiving_ends()
    if not ends:  # the event would go nowhere, yet count as delivered
        return DeliveryResult(ok=False, duration=0.0, error=NO_RECEIVING_END)
    done = set(confirmed)
    started = time.monotonic()
    metadata = event_metadata()
    outcomes = []
    for end in ends:
        if end in done:
            continue
        try:
            _send_to(end, score, metadata)
        except Exception as exc:  # this end has not taken the result; the others still get their chance
            # Kept whole: the outbox redacts secrets (the queue key) before it cuts the message to length.
            what = "bus write failed" if end.startswith(BUS_END_PREFIX) else "receiver raised"
            outcomes.append(EndOutcome(end=end, error=f"{what} {type(exc).__name__}: {exc}"))
        else:
            outcomes.append(EndOutcome(end=end))
    failed = [outcome for outcome in outcomes if not outcome.ok]
    # One failing end: its error as it is (its DeliveryEnd row names it); several: each named.
    error = failed[0].error if len(failed) == 1 else "; ".join(f"{o.end}: {o.error}" for o in failed) or None
    return DeliveryResult(ok=not failed, duration=time.monotonic() - started, error=error, ends=tuple(outcomes))
