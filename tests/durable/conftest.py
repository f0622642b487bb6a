"""
Fixtures of the delivery, fault and security suites: a stand-in LMS with injected faults, a receiver of
the score event that can fail, the stage of a course, and a queue driven through its Python API.
"""

from __future__ import annotations

import pytest
from openedx_events.learning.signals import EXTERNAL_GRADER_SCORE_SUBMITTED

from tests.durable.helpers import Queue, ScoreReceiver
from tests.durable.lms import FaultyLms
from xqueue_bridge import api
from xqueue_bridge.data import StageDecision


@pytest.fixture
def lms_server():
    server = FaultyLms()
    yield server
    server.close()


@pytest.fixture
def set_stage(monkeypatch):
    """Fix the stage every course is in from now on (what the rollout flags decide in production)."""

    def set_(stage: str) -> None:
        monkeypatch.setattr(api, "decide_stage", lambda course_key: StageDecision(stage, f"test: {stage}"))

    return set_


@pytest.fixture
def receiver():
    recorder = ScoreReceiver()
    EXTERNAL_GRADER_SCORE_SUBMITTED.connect(recorder, dispatch_uid="tests-durable-receiver", weak=False)
    yield recorder
    EXTERNAL_GRADER_SCORE_SUBMITTED.disconnect(dispatch_uid="tests-durable-receiver")


@pytest.fixture
def queue(lms_server, transactional_db):
    return Queue(lms_server)
