"""
Fixtures of the delivery, security and bad-input suites (each suite's conftest imports them): a stand-in
LMS with injected faults, a receiver of the score event that can fail, the stage of a course, a queue
driven through its Python API, and the bridge served as ``xqueue-bridge serve`` runs it.
"""

from __future__ import annotations

import threading

import pytest
import requests
from openedx_events.learning.signals import EXTERNAL_GRADER_SCORE_SUBMITTED

from tests.conftest import LMS_PASSWORD, LMS_USER
from tests.support.helpers import FAST_RETRY, Queue, ScoreReceiver, bridge_settings
from tests.support.lms import FaultyLms
from xqueue_bridge.data import StageDecision
from xqueue_bridge.intake import queue_api
from xqueue_bridge.outbox import runners
from xqueue_bridge.transports.event import register_receiving_end, unregister_receiving_end


@pytest.fixture(autouse=True)
def lms_renders_elsewhere(settings):
    """These suites' own stand-ins play the LMS (FaultyLms, ScoreReceiver): the standalone sink stays silent."""
    settings.XQUEUE_BRIDGE = {**settings.XQUEUE_BRIDGE, "RECEIVING_ENDS": False}


@pytest.fixture
def lms_server():
    server = FaultyLms()
    yield server
    server.close()


@pytest.fixture
def set_stage(monkeypatch):
    """Fix the stage every course is in from now on (what the rollout flags decide in production)."""

    def set_(stage: str) -> None:
        monkeypatch.setattr(queue_api, "decide_stage", lambda course_key: StageDecision(stage, f"test: {stage}"))

    return set_


@pytest.fixture
def receiver():
    recorder = ScoreReceiver()
    EXTERNAL_GRADER_SCORE_SUBMITTED.connect(recorder, dispatch_uid="tests-score-receiver", weak=False)
    register_receiving_end("tests score receiver", lambda: True, recorder)
    yield recorder
    unregister_receiving_end("tests score receiver")
    EXTERNAL_GRADER_SCORE_SUBMITTED.disconnect(dispatch_uid="tests-score-receiver")


@pytest.fixture
def queue(lms_server, transactional_db):
    return Queue(lms_server)


@pytest.fixture
def drainer(transactional_db):
    """The drainer thread ``serve`` runs in each worker process, polling often."""
    stop = threading.Event()
    thread = threading.Thread(target=runners.run_worker, kwargs={"poll_interval": 0.02, "stop": stop}, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)
    runners.wait_for_threads()


@pytest.fixture
def serving(bridge_url, drainer):
    """The bridge as ``serve`` runs it: deliveries in a thread pool after commit, plus the drainer."""
    with bridge_settings(DELIVERY_MODE="thread", DELIVERY_RETRY={**FAST_RETRY, "max_attempts": 1000},
                         CALLBACK_CONNECT_TIMEOUT=0.5, CALLBACK_READ_TIMEOUT=0.3):
        yield bridge_url
        runners.wait_for_threads()


@pytest.fixture
def lms_session(bridge_url):
    """A requests session logged in as the LMS account (for hand-made submits)."""
    session = requests.Session()
    session.post(f"{bridge_url}/xqueue/login/", data={"username": LMS_USER, "password": LMS_PASSWORD})
    return session
