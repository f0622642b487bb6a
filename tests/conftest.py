"""
The suite's fixtures: XQueue accounts, the bridge on a real HTTP server (pytest-django's live server on
loopback), clients that speak XQueue as the LMS and xqueue-watcher do, the fake LMS on a real HTTP
server, a learner's problem in the standalone sink, the stage of courses, and the score events sent.
Helpers live in ``tests/support``.
"""

from __future__ import annotations

import os

import pytest

from tests.support.accounts import GRADER_PASSWORD, GRADER_USER, LMS_PASSWORD, LMS_USER
from tests.support.events import receiving_end
from tests.support.lms import COURSE, FakeLms, callback_url, new_block, usage_key_for
from xqueue_bridge.accounts import ensure_user
from xqueue_bridge.roles import forget_cached_access
from xqueue_bridge.runtime.clients import GraderClient, LmsClient
from xqueue_bridge.sink import learners
from xqueue_bridge.stage import rollout
from xqueue_bridge.stage.decide import FLAGS_OF_STAGE, stage_name

# tests/lms_host is a project of its own (the bridge as an LMS plugin): collected only with its settings.
HOST_SETTINGS = "tests.lms_host.settings"
collect_ignore = [] if os.environ.get("DJANGO_SETTINGS_MODULE") == HOST_SETTINGS else ["lms_host"]


@pytest.fixture(autouse=True)
def _roles_read_afresh():
    """Each test's accounts are new: no roles cached by an earlier test's account of the same id."""
    forget_cached_access()


@pytest.fixture
def captured_events():
    """Every EXTERNAL_GRADER_SCORE_SUBMITTED sent in this process while the test runs, whoever sent it."""
    events = []

    def receiver(sender, signal, **kwargs):
        events.append(kwargs["score"])

    with receiving_end(receiver, "tests captured events"):
        yield events


@pytest.fixture
def xqueue_accounts(db):
    ensure_user(LMS_USER, LMS_PASSWORD, role="lms")
    ensure_user(GRADER_USER, GRADER_PASSWORD, role="grader")
    return {"lms": (LMS_USER, LMS_PASSWORD), "grader": (GRADER_USER, GRADER_PASSWORD)}


@pytest.fixture
def bridge_url(live_server, transactional_db, xqueue_accounts) -> str:
    """Base URL of the bridge served over real HTTP on loopback, with the XQueue accounts in place."""
    return live_server.url


@pytest.fixture
def lms(bridge_url) -> LmsClient:
    return LmsClient(bridge_url, LMS_USER, LMS_PASSWORD)


@pytest.fixture
def grader(bridge_url) -> GraderClient:
    client = GraderClient(bridge_url, GRADER_USER, GRADER_PASSWORD)
    assert client.login()
    return client


@pytest.fixture
def lms_server():
    """The fake LMS's ``xqueue_callback`` on loopback: records each callback, applies it, fails as told."""
    server = FakeLms()
    yield server
    server.close()


@pytest.fixture
def learner(bridge_url):
    """A learner's queued problem in the standalone sink, as the LMS records it when the learner submits."""

    def queue(*, user_id: int = 7, anonymous_id: str = "anon-7", queuekey: str = "lms-key-1",
              block: str | None = None, max_score: int = 1, course_id: str = COURSE, base: str | None = None):
        usage_key = usage_key_for(course_id, block or new_block())
        learners.begin_attempt(course_id, usage_key, str(user_id), anonymous_id, queuekey, max_score=max_score)
        return callback_url(base or bridge_url, course_id, user_id, usage_key=usage_key), usage_key

    return queue


@pytest.fixture
def stage():
    """
    Put courses in a stage the way an operator does, through the rollout flags: ``stage("shadow_event")``
    every course (both flags' percentage of courses, 100 or 0), ``stage("event", course=...)`` one course
    (its override of both flags, which wins over the percentages). Forced: the guard of stage moves has
    tests of its own.
    """

    def put(name: str, *, course: str | None = None) -> None:
        who = {"reason": "set by the test", "changed_by": "tests", "force": True}
        if course is not None:
            rollout.set_stage(course, name, allow_unseen=True, **who)
            return
        for flag, on in zip(rollout.FLAGS, FLAGS_OF_STAGE[stage_name(name)], strict=True):
            rollout.set_percentage(flag.name, 100 if on else 0, **who)

    return put
