"""
The event bus as a receiving end of the score event: whichever producer openedx-events' ``EVENT_BUS_PRODUCER``
names, with its write errors reported to the outbox.

edx-event-bus-redis's own producer logs and swallows any error (fire-and-forget): a Redis outage would let
the bridge record an event delivery as done while nothing reached the bus. ``reporting`` therefore sends an
event the Redis producer would send through the same client, to the same stream, in the same Avro message
format, and raises when it cannot, so the bus end is retried like a callback the LMS did not answer. Any
other producer (edx-event-bus-kafka's, a project's own) is used as it is: the event counts as on the bus once
its ``send`` returns (Kafka's producer reports a failed delivery only to its log; see the README).
``EVENT_BUS_PRODUCER = "xqueue_bridge.transports.bus.create_producer"`` still names the Redis producer.
"""

from __future__ import annotations

from openedx_events.event_bus import EventBusProducer
from openedx_events.event_bus.avro.serializer import serialize_event_data_to_bytes

try:  # the Redis event bus is optional (extra "services"); without it only other producers are wrapped
    from edx_event_bus_redis.internal.config import get_full_topic, load_common_settings
    from edx_event_bus_redis.internal.message import RedisMessage
    from edx_event_bus_redis.internal.producer import STREAM_MAX_LEN, RedisEventProducer
    from walrus import Database
except ImportError:  # pragma: no cover - exercised only where edx-event-bus-redis is not installed
    RedisEventProducer = None


if RedisEventProducer is not None:

    class ReportingRedisProducer(RedisEventProducer):
        """Adds each event to its Redis stream; any failure (connection, serialization) propagates."""

        def send(self, *, signal, topic, event_key_field, event_data, event_metadata) -> None:
            message = RedisMessage(
                topic=get_full_topic(topic),
                event_data=serialize_event_data_to_bytes(event_data, signal),
                event_metadata=event_metadata,
            )
            self.client.Stream(message.topic).add(message.to_binary_dict(), maxlen=STREAM_MAX_LEN, approximate=True)

    def create_producer() -> ReportingRedisProducer | None:
        """The producer for ``EVENT_BUS_REDIS_CONNECTION_URL``, or None when no URL is configured."""
        config = load_common_settings()
        if not config or "url" not in config:
            return None
        return ReportingRedisProducer(Database.from_url(config["url"]))


def reporting(producer: EventBusProducer) -> EventBusProducer:
    """``producer``, made to raise where it would swallow a failed write (Redis); other producers as they are."""
    if RedisEventProducer is None or not isinstance(producer, RedisEventProducer):
        return producer
    if isinstance(producer, ReportingRedisProducer):
        return producer
    return ReportingRedisProducer(producer.client)
