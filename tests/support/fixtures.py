"""
Fixtures of the delivery, security and bad-input suites (each suite's conftest imports them): the
standalone sink kept silent (the fake LMS and a receiver of the score event that can fail play the LMS), a
queue driven through its Python API, and the bridge served as ``xqueue-bridge serve`` runs it.
"""

from __future__ import annotations

import threading

import pytest
import requests

from tests.support.accounts import LMS_PASSWORD, LMS_USER
from tests.support.config import FAST_RETRY, bridge_settings
from tests.support.events import ScoreReceiver, receiving_end
from tests.support.grading import Queue
from xqueue_bridge.outbox import runners


@pytest.fixture(autouse=True)
def lms_renders_elsewhere(settings):
    """These suites' own stand-ins play the LMS (FakeLms, ScoreReceiver): the standalone sink stays silent."""
    settings.XQUEUE_BRIDGE = {**settings.XQUEUE_BRIDGE, "RECEIVING_ENDS": False}


@pytest.fixture
def receiver():
    """A receiver of the score event standing in for the LMS's (see ``ScoreReceiver``)."""
    recorder = ScoreReceiver()
    with receiving_end(recorder, "tests score receiver"):
        yield recorder


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
