"""
Shared fixtures: XQueue accounts, the bridge on a real HTTP server (pytest-django's live server on
loopback), clients that speak XQueue as the LMS and xqueue-watcher do, and a recording LMS callback
receiver on a real HTTP server.
"""

from __future__ import annotations

import itertools
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from xqueue_bridge.keys import quote_slashes
from xqueue_bridge.runtime.clients import GraderClient, LmsClient, make_body, make_header

# tests/lms_host is a project of its own (the bridge as an LMS plugin): collected only with its settings.
HOST_SETTINGS = "tests.lms_host.settings"
collect_ignore = [] if os.environ.get("DJANGO_SETTINGS_MODULE") == HOST_SETTINGS else ["lms_host"]

LMS_USER, LMS_PASSWORD = "lms", "lms-password"
GRADER_USER, GRADER_PASSWORD = "grader", "grader-password"
COURSE = "course-v1:BridgeX+Code101+2026"
_problem_numbers = itertools.count(1)


def bridge_process_env(**extra: str) -> dict:
    """Environment of an ``xqueue-bridge`` child process on the tests' database."""
    from tests.support.processes import database_url

    env = {k: v for k, v in os.environ.items() if not k.startswith(("XQUEUE_BRIDGE_", "DJANGO_SETTINGS"))}
    env.update(
        DJANGO_SETTINGS_MODULE="xqueue_bridge.runtime.settings",
        DATABASE_URL=database_url(),
        XQUEUE_BRIDGE_HOME=os.environ["XQUEUE_BRIDGE_HOME"],
        XQUEUE_BRIDGE_QUEUES="test-pull,python-grader,other-queue",
        SECRET_KEY="tests-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
    )
    env.update(extra)
    return env


@pytest.fixture
def captured_events():
    """Every EXTERNAL_GRADER_SCORE_SUBMITTED sent in this process while the test runs, whoever sent it."""
    from openedx_events.learning.signals import EXTERNAL_GRADER_SCORE_SUBMITTED

    from xqueue_bridge.transports.event import register_receiving_end, unregister_receiving_end

    events = []

    def receiver(sender, signal, **kwargs):
        events.append(kwargs["score"])

    EXTERNAL_GRADER_SCORE_SUBMITTED.connect(receiver, dispatch_uid="tests-captured-events", weak=False)
    register_receiving_end("tests captured events", lambda: True, receiver)
    yield events
    unregister_receiving_end("tests captured events")
    EXTERNAL_GRADER_SCORE_SUBMITTED.disconnect(dispatch_uid="tests-captured-events")


@pytest.fixture
def xqueue_accounts(db):
    from xqueue_bridge.management.commands.users import ensure_user

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


class RecordingLms:
    """A real HTTP server standing in for the LMS's xqueue_callback: records each POST, answers as told."""

    def __init__(self):
        self.calls: list[dict] = []
        self.status = 200
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode("utf-8"), keep_blank_values=True)
                with outer.lock:
                    outer.calls.append({"path": self.path, "form": {k: v[0] for k, v in form.items()}})
                    status = outer.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def callback_url(self, course_id: str = COURSE, user_id: int = 7, block: str | None = None,
                     dispatch: str = "score_update") -> str:
        block = block or f"p{next(_problem_numbers)}"
        usage = f"block-v1:{course_id.removeprefix('course-v1:')}+type@problem+block@{block}"
        return f"http://127.0.0.1:{self.port}/courses/{course_id}/xqueue/{user_id}/{quote_slashes(usage)}/{dispatch}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def set_stage(stage: str, course_id: str = COURSE) -> None:
    """Put a course in a stage the way an operator does (a course override of both rollout flags)."""
    from xqueue_bridge.stage import rollout

    rollout.set_stage(course_id, stage, reason="set by the test", changed_by="tests", force=True, allow_unseen=True)


def usage_key_for(course_id: str, block: str) -> str:
    return f"block-v1:{course_id.removeprefix('course-v1:')}+type@problem+block@{block}"


def callback_url_for(base: str, course_id: str = COURSE, user_id: int = 7, block: str | None = None,
                     dispatch: str = "score_update") -> str:
    """The lms_callback_url the LMS builds for a learner's problem (usage key slash-quoted)."""
    usage = usage_key_for(course_id, block or f"p{next(_problem_numbers)}")
    return f"{base}/courses/{course_id}/xqueue/{user_id}/{quote_slashes(usage)}/{dispatch}"


@pytest.fixture
def learner(bridge_url):
    """A learner's queued problem in the standalone sink, as the LMS records it when the learner submits."""
    from xqueue_bridge.sink import learners

    def queue(*, user_id: int = 7, anonymous_id: str = "anon-7", queuekey: str = "lms-key-1",
              block: str | None = None, max_score: int = 1, course_id: str = COURSE, base: str | None = None):
        block = block or f"p{next(_problem_numbers)}"
        learners.begin_attempt(course_id, usage_key_for(course_id, block), str(user_id), anonymous_id, queuekey,
                           max_score=max_score)
        url = callback_url_for(base or bridge_url, course_id, user_id, block)
        return url, usage_key_for(course_id, block)

    return queue


@pytest.fixture
def recording_lms():
    receiver = RecordingLms()
    yield receiver
    receiver.close()


def submission_for(callback_url: str, *, queue: str = "test-pull", key: str = "lms-key-1",
                   answer: str = "print('hello')", anonymous_id: str = "anon-7") -> tuple[str, str]:
    """The (xqueue_header, xqueue_body) the LMS would send for one learner answer."""
    return make_header(callback_url, key, queue), make_body(answer, anonymous_id, grader_payload='{"grader": "g.py"}')
