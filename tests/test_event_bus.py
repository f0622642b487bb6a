"""
The event path over the real Redis event bus: the bridge produces EXTERNAL_GRADER_SCORE_SUBMITTED with
edx-event-bus-redis (Avro on a Redis stream), and a separate consumer process, as an LMS runs it
(``consume_events``), hands it to its receiver, which renders the learner's result.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

import pytest
import redis
from django.core.management.base import SystemCheckError
from openedx_events.apps import general_signal_handler
from openedx_events.event_bus import get_producer
from openedx_events.learning.signals import EXTERNAL_GRADER_SCORE_SUBMITTED

from tests.conftest import COURSE, bridge_process_env, set_stage, submission_for
from xqueue_bridge.models import Delivery

REDIS_URL = "redis://127.0.0.1:6379/0"
TOPIC = "scores"


@pytest.fixture
def redis_bus(settings):
    """This process produces the score event to a Redis stream of its own (unique prefix per test)."""
    prefix = f"xqb-test-{uuid.uuid4().hex[:10]}"
    settings.EVENT_BUS_PRODUCER = "xqueue_bridge.transports.bus.create_producer"
    settings.EVENT_BUS_REDIS_CONNECTION_URL = REDIS_URL
    settings.EVENT_BUS_TOPIC_PREFIX = prefix
    settings.EVENT_BUS_PRODUCER_CONFIG = {
        EXTERNAL_GRADER_SCORE_SUBMITTED.event_type: {TOPIC: {"event_key_field": "score.submission_id", "enabled": True}}
    }
    settings.XQUEUE_BRIDGE = {**settings.XQUEUE_BRIDGE, "RECEIVING_ENDS": False}  # the LMS renders, not us
    get_producer.cache_clear()
    EXTERNAL_GRADER_SCORE_SUBMITTED.connect(general_signal_handler, dispatch_uid="tests-event-bus")
    client = redis.Redis.from_url(REDIS_URL)
    yield prefix, client
    EXTERNAL_GRADER_SCORE_SUBMITTED.disconnect(dispatch_uid="tests-event-bus")
    get_producer.cache_clear()
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)


def _consumer(prefix: str) -> subprocess.Popen:
    extra = json.dumps({"consumer_name": "lms-1", "check_backlog": True})
    env = bridge_process_env(REDIS_URL=REDIS_URL, EVENT_BUS_TOPIC_PREFIX=prefix, XQUEUE_BRIDGE_RECEIVING_ENDS="1",
                             XQUEUE_BRIDGE_LOG_LEVEL="WARNING")
    return subprocess.Popen(
        [sys.executable, "-m", "xqueue_bridge", "manage", "consume_events", "-t", TOPIC, "-g", "lms", "--extra", extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


def _wait_applied(usage_key: str, anonymous_id: str, process: subprocess.Popen, timeout: float = 30.0):
    from xqueue_bridge.sink import learners

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if learners.learner_updates(usage_key, anonymous_student_id=anonymous_id):
            return learners.problem_state(usage_key, anonymous_student_id=anonymous_id)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.terminate()
    raise AssertionError(f"no learner update arrived; consumer said: {process.communicate()[0].decode()[-3000:]}")


def test_score_event_crosses_the_redis_bus_to_the_lms_receiver(lms, grader, learner, redis_bus):
    prefix, client = redis_bus
    set_stage("event")
    url, usage_key = learner(user_id=21, anonymous_id="anon-21", queuekey="bus-key-21", max_score=2)
    header, body = submission_for(url, key="bus-key-21", anonymous_id="anon-21")
    assert lms.submit(header, body, extra={"points_possible": "2"})[0] == 0
    served = grader.get_submission("test-pull")
    reply = json.dumps({"correct": True, "score": 1.0, "msg": "<p>over the bus</p>"})
    assert grader.put_result(served["xqueue_header"], reply) == (True, "")

    assert Delivery.objects.get().status == "delivered"
    assert client.xlen(f"{prefix}-{TOPIC}") == 1  # produced, as Avro, on the stream
    consumer = _consumer(prefix)
    try:
        state = _wait_applied(usage_key, "anon-21", consumer)
    finally:
        consumer.terminate()
        consumer.wait(timeout=15)
    assert (state.correctness, state.npoints, state.queuekey) == ("correct", 1.0, None)
    assert "over the bus" in state.feedback_html
    assert state.course_id == COURSE


def _event_result(lms, grader, learner, user_id: int) -> Delivery:
    set_stage("event")
    url, _ = learner(user_id=user_id, anonymous_id=f"anon-{user_id}", queuekey=f"bus-key-{user_id}")
    header, body = submission_for(url, key=f"bus-key-{user_id}", anonymous_id=f"anon-{user_id}")
    assert lms.submit(header, body)[0] == 0
    served = grader.get_submission("test-pull")
    assert grader.put_result(served["xqueue_header"], json.dumps({"correct": True, "score": 1, "msg": "ok"})) == (
        True, "")  # the grader hears success once the reply is recorded, whatever the bus does
    return Delivery.objects.get()


def test_a_bus_that_cannot_be_written_leaves_the_result_pending_until_it_can(lms, grader, learner, redis_bus,
                                                                          settings):
    from xqueue_bridge.outbox import runners

    prefix, client = redis_bus
    settings.EVENT_BUS_REDIS_CONNECTION_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    get_producer.cache_clear()
    delivery = _event_result(lms, grader, learner, 31)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "ConnectionError" in delivery.last_error  # not counted as delivered, as the library's producer would
    assert client.xlen(f"{prefix}-{TOPIC}") == 0

    settings.EVENT_BUS_REDIS_CONNECTION_URL = REDIS_URL  # Redis is back
    get_producer.cache_clear()
    Delivery.objects.update(next_attempt_at=delivery.created_at)  # due now
    runners.drain()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert client.xlen(f"{prefix}-{TOPIC}") == 1


def test_an_event_that_would_reach_no_one_is_not_counted_as_delivered(lms, grader, learner, settings):
    from django.core.management import call_command

    from xqueue_bridge.transports.event import NO_RECEIVING_END

    settings.XQUEUE_BRIDGE = {**settings.XQUEUE_BRIDGE, "RECEIVING_ENDS": False}  # and no bus configured
    delivery = _event_result(lms, grader, learner, 32)
    assert (delivery.status, delivery.last_error) == ("pending", NO_RECEIVING_END)
    with pytest.raises(SystemCheckError, match="xqueue_bridge.W001"):
        call_command("check", fail_level="WARNING")


def test_the_standalone_service_names_itself_as_the_event_source(lms, grader, learner, settings):
    """Measured before: events of the standalone service carried openedx/SERVICE_NAME_UNSET/web."""
    from xqueue_bridge.transports.event import register_receiving_end, unregister_receiving_end

    seen = []
    register_receiving_end("tests metadata", lambda: True, lambda **kwargs: seen.append(kwargs["metadata"]))
    try:
        _event_result(lms, grader, learner, 33)
    finally:
        unregister_receiving_end("tests metadata")
    assert [metadata.source for metadata in seen] == ["openedx/xqueue-bridge/web"]


def test_a_failing_receiver_does_not_put_the_event_on_the_bus_again(lms, grader, learner, redis_bus, settings):
    """Measured before: one reply whose receiver kept failing gave 9 attempts and 12 stream entries."""
    from xqueue_bridge.models import DeliveryEnd
    from xqueue_bridge.outbox import runners
    from xqueue_bridge.sink import learners

    prefix, client = redis_bus
    settings.XQUEUE_BRIDGE = {**settings.XQUEUE_BRIDGE, "RECEIVING_ENDS": True}  # the standalone sink too
    set_stage("event")
    course_usage = f"block-v1:{COURSE.removeprefix('course-v1:')}+type@problem+block@bus-again"
    url = f"{lms.base_url}/courses/{COURSE}/xqueue/41/{course_usage}/score_update"
    header, body = submission_for(url, key="bus-key-41", anonymous_id="anon-41")
    assert lms.submit(header, body)[0] == 0
    served = grader.get_submission("test-pull")
    reply = json.dumps({"correct": True, "score": 1, "msg": "once on the bus"})
    assert grader.put_result(served["xqueue_header"], reply) == (True, "")
    delivery = Delivery.objects.get()
    assert delivery.status == "pending"  # the sink has no such learner yet: its receiver raises
    for _ in range(3):
        Delivery.objects.update(next_attempt_at=delivery.created_at)
        runners.drain()
    learners.begin_attempt(COURSE, course_usage, "41", "anon-41", "bus-key-41", max_score=1)
    Delivery.objects.update(next_attempt_at=delivery.created_at)
    runners.drain()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 5)
    assert client.xlen(f"{prefix}-{TOPIC}") == 1  # the bus took it at the first attempt, and only then
    ends = dict(DeliveryEnd.objects.filter(delivery=delivery).values_list("end", "attempts"))
    assert ends == {"standalone receiver": 5, f"event bus: {TOPIC}": 1}
