"""
The LMS as the bridge meets it: what a learner's problem sends (its callback URL, the submit's header and
body), and a fake LMS, a real HTTP server on loopback standing in for its ``xqueue_callback``. The fake
records every callback, applies each result the way the LMS does (only while the problem waits for that
queue key, which the result then consumes) and can be told to fail in the ways a real LMS fails.

Faults, chosen per callback by ``fault_for`` (a callable, see ``FaultPlan``):

==========  ========================================================================================
``ok``      apply the result, answer 200
``status``  answer ``fault.status`` (e.g. 500, or 302 to ``fault.location``) without applying
``hang``    wait ``fault.seconds`` before answering 200 without applying (the bridge times out first)
``lost``    apply the result, then close the connection without an answer (a lost acknowledgement)
``slow``    wait ``fault.seconds``, then apply the result and answer 200 (a busy LMS)
==========  ========================================================================================

``stop()`` and ``start()`` take the whole server down and bring it back on the same port (connection
refused in between).
"""

from __future__ import annotations

import collections
import itertools
import json
import random
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import attr

from xqueue_bridge.keys import quote_slashes
from xqueue_bridge.runtime.clients import make_body, make_header

COURSE = "course-v1:BridgeX+Code101+2026"
_problem_numbers = itertools.count(1)


def usage_key_for(course_id: str, block: str) -> str:
    """The usage key of problem ``block`` in ``course_id``."""
    return f"block-v1:{course_id.removeprefix('course-v1:')}+type@problem+block@{block}"


def new_block() -> str:
    """The name of a problem no other call returns (``p1``, ``p2``, ...)."""
    return f"p{next(_problem_numbers)}"


def callback_url(base: str, course_id: str = COURSE, user_id: int | str = 7, block: str | None = None, *,
                 usage_key: str | None = None, dispatch: str = "score_update") -> str:
    """
    The lms_callback_url the LMS builds for a learner's problem (usage key slash-quoted), under ``base``
    (``""`` for the path alone). Without ``block`` or ``usage_key`` each call names a problem of its own.
    """
    usage_key = usage_key or usage_key_for(course_id, block or new_block())
    return f"{base}/courses/{course_id}/xqueue/{user_id}/{quote_slashes(usage_key)}/{dispatch}"


def submission_for(url: str, *, queue: str = "test-pull", key: str = "lms-key-1",
                   answer: str = "print('hello')", anonymous_id: str = "anon-7") -> tuple[str, str]:
    """The (xqueue_header, xqueue_body) the LMS would send for one learner answer."""
    return make_header(url, key, queue), make_body(answer, anonymous_id, grader_payload='{"grader": "g.py"}')


@attr.frozen
class Fault:
    """What the fake LMS does with one callback (the table above)."""

    kind: str = "ok"  # ok | status | hang | lost | slow
    status: int = 200
    seconds: float = 0.0
    location: str = ""  # with a 3xx status: where the answer redirects to


OK = Fault()
HTTP_500 = Fault("status", status=500)


class FaultPlan:
    """
    Which fault each callback meets: the first ``failures`` callbacks for each queue key meet ``fault``
    (a result that keeps failing until the LMS "recovers" for it), and then, with probability ``rate``,
    a random fault from ``random_faults``; else ``ok``. Seeded, so a run can be repeated.
    """

    def __init__(self, *, failures: int = 0, fault: Fault = OK, rate: float = 0.0,
                 random_faults: tuple[Fault, ...] = (), seed: int = 1):
        self.failures, self.fault, self.rate, self.random_faults = failures, fault, rate, random_faults
        self.rng = random.Random(seed)
        self.seen: collections.Counter = collections.Counter()
        self.lock = threading.Lock()

    def __call__(self, key: str) -> Fault:
        with self.lock:
            self.seen[key] += 1
            if self.seen[key] <= self.failures:
                return self.fault
            if self.random_faults and self.rng.random() < self.rate:
                return self.rng.choice(self.random_faults)
            return OK


class FakeLms:
    """The LMS's ``xqueue_callback`` on a real HTTP server: records each callback, applies it, fails as told."""

    def __init__(self, fault_for: Callable[[str], Fault] | None = None, host: str = "127.0.0.1"):
        self.fault_for = fault_for or (lambda key: OK)
        self.host = host
        self.lock = threading.Lock()
        self.waiting: set[str] = set()  # queue keys of problems waiting for a result
        self.updates: dict[str, list[str]] = collections.defaultdict(list)  # key -> bodies applied
        self.calls: list[dict] = []  # every callback received, whatever its fate: path, form, key, fault
        self.faults_served: collections.Counter = collections.Counter()
        self.repeats_ignored = 0  # results heard again after they were applied
        self.on_call: Callable[[dict], None] | None = None  # a hook run before the answer (tests)
        self._release = threading.Event()  # set to end every hang at once (teardown)
        self.server: ThreadingHTTPServer | None = None
        self.port = 0
        self.start()

    # --- the LMS side of a submission --------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def callback_url(self, course_id: str = COURSE, user_id: int | str = 7, block: str | None = None, *,
                     dispatch: str = "score_update") -> str:
        """A learner's callback URL on this server (see ``callback_url``)."""
        return callback_url(self.base_url, course_id, user_id, block, dispatch=dispatch)

    def expect(self, key: str) -> None:
        """The learner submitted: the problem waits for a result under ``key``."""
        with self.lock:
            self.waiting.add(key)

    # --- what happened --------------------------------------------------------------------------------

    def applied_keys(self) -> set[str]:
        with self.lock:
            return set(self.updates)

    def doubly_applied(self) -> dict[str, int]:
        with self.lock:
            return {key: len(bodies) for key, bodies in self.updates.items() if len(bodies) > 1}

    def callbacks_per_key(self) -> collections.Counter:
        with self.lock:
            return collections.Counter(call["key"] for call in self.calls)

    # --- the server -----------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode("utf-8")
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        try:
            key = json.loads(form.get("xqueue_header", "")).get("lms_key", "")
        except (ValueError, AttributeError):
            key = ""
        fault = self.fault_for(key)
        call = {"path": handler.path, "form": form, "key": key, "fault": fault.kind}
        with self.lock:
            self.calls.append(call)
            self.faults_served[fault.kind] += 1
        if self.on_call:
            self.on_call(call)
        if fault.kind == "status":
            self._answer(handler, fault.status, fault.location)
            return
        if fault.kind == "hang":
            self._release.wait(fault.seconds)
            self._answer(handler, 200)
            return
        if fault.kind == "slow":
            self._release.wait(fault.seconds)
        if "xqueue_header" not in form or "xqueue_body" not in form or not key:
            self._answer(handler, 404)  # the LMS's view answers 404 to a malformed callback
            return
        with self.lock:  # legacy rule: applied only while the problem waits for this key, which it consumes
            if key in self.waiting:
                self.waiting.discard(key)
                self.updates[key].append(form["xqueue_body"])
            elif key in self.updates:
                self.repeats_ignored += 1  # a result heard again: 200, and nothing changes
        if fault.kind == "lost":
            handler.close_connection = True
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._answer(handler, 200)

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, location: str = "") -> None:
        try:
            handler.send_response(status)
            if location:
                handler.send_header("Location", location)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        except OSError:
            pass  # the bridge gave up waiting (a hang longer than its timeout)

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.0: one request per connection, so that a stopped server leaves no connection open.
            def do_POST(self):  # noqa: N802 (http.server's naming)
                outer._handle(self)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                pass  # a connection the bridge dropped after its timeout, or one "lost" on purpose

        deadline = time.monotonic() + 10
        while True:
            try:
                self.server = Server((self.host, self.port), Handler)
                break
            except OSError:  # the port of a stopped server can take a moment to be free again
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        """Take the LMS down: connections are refused until ``start``."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def close(self) -> None:
        self._release.set()
        self.stop()
