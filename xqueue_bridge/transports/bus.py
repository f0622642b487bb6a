"""
An event-bus producer for the score event that reports failure to its caller.

edx-event-bus-redis's own producer logs and swallows any error (fire-and-forget): a Redis outage would
let the bridge record an event delivery as done while nothing reached the bus. This producer adds the
event to the same Redis stream, in the same Avro message format, and raises when it cannot, so the
delivery is retried like a callback the LMS did not answer. Configure it with
``EVENT_BUS_PRODUCER = "xqueue_bridge.transports.bus.create_producer"`` (the standalone settings do).
"""

from __future__ import annotations

from edx_event_bus_redis.internal.config import get_full_topic, load_common_settings
from edx_event_bus_redis.internal.message import RedisMessage
from edx_event_bus_redis.internal.producer import STREAM_MAX_LEN, RedisEventProducer
from openedx_events.event_bus.avro.serializer import serialize_event_data_to_bytes
from walrus import Database


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
