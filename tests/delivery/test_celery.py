"""
Celery mode with real parts: the Redis broker on loopback and ``celery -A xqueue_bridge.runtime.celery_app worker
-B`` as a separate process on the test database. The web side queues a ``deliver`` task after commit;
beat's ``drain`` picks up retries; both run the same outbox code as ``xqueue-bridge worker``.
"""

from __future__ import annotations

import json
import sys
import uuid

import pytest
import redis

from tests.support.config import FAST_RETRY, bridge_settings
from tests.support.grading import REPLY, run_loop
from tests.support.lms import FakeLms, Fault, FaultPlan
from tests.support.processes import BridgeProcess, free_port, serve
from tests.support.waiting import wait_for
from xqueue_bridge.models import Delivery
from xqueue_bridge.outbox import runners
from xqueue_bridge.runtime.celery_app import app as celery_app

REDIS_URL = "redis://127.0.0.1:6379/0"
RESULTS = 10
HTTP_500 = Fault("status", status=500)


def use_broker(**conf) -> None:
    """Point the web side's Celery app at another broker; its pooled connections are for the old one."""
    celery_app.conf.update(**conf)
    celery_app._after_fork()  # Celery's own reset of the connection and producer pools


@pytest.fixture
def celery_queue():
    """A task queue of this test alone on the shared Redis, set on the web side's Celery app."""
    name = f"xqb-test-{uuid.uuid4().hex[:12]}"
    keys = ("broker_url", "task_default_queue", "broker_connection_retry", "broker_connection_max_retries")
    saved = {key: celery_app.conf.get(key) for key in keys}
    use_broker(broker_url=REDIS_URL, task_default_queue=name)
    yield name
    use_broker(**saved)
    redis.Redis.from_url(REDIS_URL).delete(name)


@pytest.fixture
def celery_worker_process(celery_queue, transactional_db, tmp_path):
    """Start a Celery worker with embedded beat on the test database (a callable taking extra env)."""
    started = []

    def start(env: dict | None = None, beat: bool = True) -> BridgeProcess:
        process = BridgeProcess(
            [sys.executable, "-m", "celery", "-A", "xqueue_bridge.runtime.celery_app", "worker",
             *(["-B"] if beat else []),
             "--loglevel", "WARNING", "--concurrency", "2", "--queues", celery_queue,
             "--schedule", str(tmp_path / "beat-schedule"), "--hostname", f"{celery_queue}@%h"],
            log_path=tmp_path / "celery.log",
            bridge_settings={"DELIVERY_MODE": "celery", "WORKER_POLL_INTERVAL": 0.2, "DELIVERY_RETRY": FAST_RETRY},
            env={"CELERY_BROKER_URL": REDIS_URL, "XQB_TEST_CELERY_QUEUE": celery_queue, **(env or {})},
        ).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def settled() -> bool:
    return not Delivery.objects.filter(status="pending").exists()


@pytest.mark.slow
def test_serve_queues_a_deliver_task_after_commit_and_the_worker_delivers_it_without_beat(
    xqueue_accounts, lms_server, celery_queue, celery_worker_process, tmp_path
):
    """The whole deployment: ``serve`` (no drainer) queues the tasks, a Celery worker without beat runs them."""
    worker = celery_worker_process(beat=False)
    port = free_port()
    web = serve(port, tmp_path / "serve.log", {"DELIVERY_MODE": "celery"}, options=("--no-drainer",),
                env={"CELERY_BROKER_URL": REDIS_URL, "XQB_TEST_CELERY_QUEUE": celery_queue})
    try:
        keys = run_loop(f"http://127.0.0.1:{port}", lms_server, RESULTS)
        assert wait_for(settled, timeout=90), worker.log() + web.log()
    finally:
        web.stop()
    assert set(Delivery.objects.values_list("status", "attempts")) == {("delivered", 1)}
    assert lms_server.applied_keys() == set(keys)
    assert set(lms_server.callbacks_per_key().values()) == {1}


@pytest.mark.slow
def test_celery_worker_delivers_after_commit_and_beat_retries_until_the_lms_takes_it(
    queue, lms_server, celery_worker_process
):
    lms_server.fault_for = FaultPlan(failures=2, fault=HTTP_500)
    worker = celery_worker_process()
    with bridge_settings(DELIVERY_MODE="celery", DELIVERY_RETRY=FAST_RETRY):
        submissions = queue.grade(RESULTS)
        assert wait_for(settled, timeout=90), worker.log()

    assert set(Delivery.objects.values_list("status", "attempts")) == {("delivered", 3)}
    assert lms_server.applied_keys() == {s.lms_key for s in submissions}
    assert lms_server.doubly_applied() == {}
    assert set(lms_server.callbacks_per_key().values()) == {3}  # two failures, then the one that took


@pytest.mark.slow
def test_celery_worker_retries_an_event_receiver_that_raises_until_it_takes_the_score(
    queue, stage, celery_worker_process
):
    score_sink = FakeLms(FaultPlan(failures=1, fault=HTTP_500))  # the receiver raises on its first call
    try:
        stage("event")
        worker = celery_worker_process({"XQB_TEST_EVENT_SINK_URL": score_sink.callback_url(block="events")})
        with bridge_settings(DELIVERY_MODE="celery", DELIVERY_RETRY=FAST_RETRY):
            submissions = [queue.submit() for _ in range(RESULTS)]
            for submission in submissions:
                score_sink.expect(submission.lms_key)
                queue.reply(queue.pull(), REPLY)
            assert wait_for(settled, timeout=90), worker.log()

        assert set(Delivery.objects.values_list("path", "status", "attempts")) == {("event", "delivered", 2)}
        assert score_sink.applied_keys() == {s.lms_key for s in submissions}
        assert score_sink.doubly_applied() == {}
        assert {json.loads(bodies[0])["score"] for bodies in score_sink.updates.values()} == {1.0}
    finally:
        score_sink.close()


def test_a_broker_that_is_down_does_not_fail_an_accepted_reply_and_the_drainer_delivers_it(
    queue, lms_server, celery_queue, caplog
):
    use_broker(broker_url=f"redis://127.0.0.1:{free_port()}/0", broker_connection_retry=False,
               broker_connection_max_retries=0)
    with bridge_settings(DELIVERY_MODE="celery"):
        submission = queue.submit()
        outcome = queue.reply(queue.pull(), REPLY)  # the task cannot be queued: the broker is down
    assert outcome.accepted
    assert Delivery.objects.get().status == "pending"
    assert any("on_commit" in record.getMessage() for record in caplog.records)

    assert runners.drain() == 1  # what beat's drain (or ``xqueue-bridge worker``) does next
    assert lms_server.updates[submission.lms_key] == [json.dumps(REPLY)]
