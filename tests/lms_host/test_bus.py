"""
The event bus end to end: the bridge in the host produces the score event to a private Redis, and the LMS
consumes it in a separate process with edx-event-bus-redis's real ``consume_events``, whose receiver is the
host's ``handle_external_grader_score``. Across a Redis restart and a consumer restart every result is
put on the bus once and applied once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
import redis
from openedx_events.event_bus import get_producer
from openedx_events.learning.signals import EXTERNAL_GRADER_SCORE_SUBMITTED

from tests.lms_host.conftest import QUEUE
from tests.support.helpers import wait_for
from tests.support.processes import ROOT, database_url
from tests.support.redis_server import RedisServer
from xqueue_bridge import api
from xqueue_bridge.models import Delivery
from xqueue_bridge.outbox.runners import drain
from xqueue_bridge.transports.event import register_receiving_end, unregister_receiving_end

TOPIC = "external-grader-score"
RECEIVER = "tests.lms_host.courseware.handlers.handle_external_grader_score"
COURSE = "course-v1:HostX+Bus+2026"


@pytest.fixture
def bus(settings, tmp_path):
    """This LMS produces the score event to a private Redis instead of receiving it in process."""
    server = RedisServer(tmp_path).start()
    prefix = f"lms-host-{uuid.uuid4().hex[:8]}"
    settings.EVENT_BUS_PRODUCER = "edx_event_bus_redis.create_producer"
    settings.EVENT_BUS_REDIS_CONNECTION_URL = server.url
    settings.EVENT_BUS_TOPIC_PREFIX = prefix
    settings.EVENT_BUS_PRODUCER_CONFIG = {
        EXTERNAL_GRADER_SCORE_SUBMITTED.event_type: {TOPIC: {"event_key_field": "score.submission_id", "enabled": True}}
    }
    get_producer.cache_clear()
    unregister_receiving_end(RECEIVER)
    yield server, prefix
    from tests.lms_host.courseware import handlers

    register_receiving_end(RECEIVER, lambda: True, handlers.handle_external_grader_score)
    get_producer.cache_clear()
    server.stop()


class Consumer:
    """``manage.py consume_events`` of the host, as an LMS runs it, in a process of its own."""

    def __init__(self, server: RedisServer, prefix: str, log_path):
        self.server, self.prefix, self.log_path = server, prefix, log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> Consumer:
        env = {
            **os.environ, "DJANGO_SETTINGS_MODULE": "tests.lms_host.settings", "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database_url(), "LMS_HOST_REDIS_URL": self.server.url,
            "LMS_HOST_TOPIC_PREFIX": self.prefix,
        }
        extra = json.dumps({"consumer_name": "lms-1", "check_backlog": True})
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "django", "consume_events", "-t", TOPIC, "-g", "lms", "--extra", extra],
                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.running():
            self.process.kill()  # no goodbye: what it read and did not acknowledge stays pending in Redis
        if self.process:
            self.process.wait(timeout=30)


def test_every_result_crosses_the_bus_once_across_redis_and_consumer_restarts(lms, grader, learner, bus, tmp_path):
    server, prefix = bus
    client = redis.Redis.from_url(server.url)
    api.set_stage(COURSE, "event", reason="bus test", changed_by="tests")
    consumer = Consumer(server, prefix, tmp_path / "consumer.log").start()
    learners = []

    def results(count: int) -> None:
        for _ in range(count):
            one = learner(COURSE)
            one.submit(lms)
            served = grader.get_submission(QUEUE)
            reply = {"correct": True, "score": 1, "msg": f"<p>{one.anonymous_id}</p>"}
            assert grader.put_result(served["xqueue_header"], reply) == (True, "")
            learners.append(one)

    def all_applied() -> bool:
        return all(one.problem().updates_applied == 1 for one in learners)

    try:
        results(3)
        assert wait_for(all_applied, timeout=60), (tmp_path / "consumer.log").read_text()[-3000:]

        server.stop()  # Redis goes down: the consumer exits (edx-event-bus-redis treats it as fatal)
        results(2)  # accepted; their bus writes fail and stay pending
        assert set(Delivery.objects.filter(status="pending").values_list("last_error", flat=True)) != set()
        assert wait_for(lambda: not consumer.running(), timeout=60)
        server.start()  # same port, same data
        Delivery.objects.filter(status="pending").update(next_attempt_at=Delivery.objects.first().created_at)
        drain()
        assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
        consumer = Consumer(server, prefix, tmp_path / "consumer.log").start()  # as a process manager would
        assert wait_for(all_applied, timeout=60), (tmp_path / "consumer.log").read_text()[-3000:]

        consumer.kill()  # the consumer is killed; results go on arriving
        results(3)
        consumer = Consumer(server, prefix, tmp_path / "consumer.log").start()
        assert wait_for(all_applied, timeout=60), (tmp_path / "consumer.log").read_text()[-3000:]
    finally:
        consumer.kill()

    assert client.xlen(f"{prefix}-{TOPIC}") == len(learners) == 8  # on the bus once each
    assert [one.problem().msg for one in learners] == [f"<p>{one.anonymous_id}</p>" for one in learners]
    assert all(one.problem().updates_applied == 1 for one in learners)  # applied once each
