"""
Soak: thousands of results through the whole loop on loopback, with faults injected all along. The LMS's
submit client and four graders (xqueue-watcher's habits) talk HTTP to ``xqueue-bridge serve`` (gunicorn,
two worker processes, delivery threads and drainers, on the test database); results go back to a callback
LMS or, for one course in four, to a receiver of the score event. The LMS answers 500 or 503, hangs past the
timeout, loses its answer after applying a result, and is down for a while; the event receiver raises when
its store fails or loses its answer; graders send some replies twice. It must end with every result applied
exactly once: 0 lost, 0 duplicated learner updates. The figures are printed, not asserted.

The size depends on the database so that ``make test`` (the suite on three databases, two cores) keeps
within its budget: see SIZES. ``XQUEUE_BRIDGE_SOAK_RESULTS`` sets another size (the 10,000-result runs
reported in docs/fault-matrix.rst use it).
"""

from __future__ import annotations

import json
import os
import random
import threading
import time

import pytest
from django.db import connection

from tests.support.accounts import GRADER_PASSWORD, GRADER_USER, LMS_PASSWORD, LMS_USER
from tests.support.grading import REPLY
from tests.support.lms import FakeLms, Fault, FaultPlan
from tests.support.processes import free_port, serve
from tests.support.waiting import wait_for
from xqueue_bridge.models import Delivery, Submission
from xqueue_bridge.runtime.clients import GraderClient, LmsClient, make_body, make_header

# Results per run in `make test`: about two minutes on SQLite, the embedded default, and forty seconds on
# each server database, on the two-core CI machine (about 26 results/s on each).
SIZES = {"sqlite": 3_000, "mysql": 1_000, "postgresql": 1_000}
CALLBACK_COURSE = "course-v1:BridgeX+Code101+2026"
EVENT_COURSE = "course-v1:BridgeX+Events+2026"
GRADERS = 4
SUBMITTERS = 2
LMS_FAULTS = (Fault("status", status=500), Fault("status", status=503), Fault("lost"), Fault("hang", seconds=1.0))
RECEIVER_FAULTS = (Fault("status", status=500), Fault("lost"))


@pytest.mark.slow
def test_soak_every_result_applied_exactly_once_under_injected_faults(
    transactional_db, xqueue_accounts, lms_server, capsys, tmp_path
):
    size = int(os.environ.get("XQUEUE_BRIDGE_SOAK_RESULTS") or SIZES[connection.vendor])
    lms_server.fault_for = FaultPlan(rate=0.08, random_faults=LMS_FAULTS, seed=7)
    score_sink = FakeLms(FaultPlan(rate=0.08, random_faults=RECEIVER_FAULTS, seed=8))
    keys = {"callback": set(), "event": set()}
    replied: list[int] = []
    duplicates: list[tuple] = []
    errors: list[str] = []
    submitted_all = threading.Event()
    lock = threading.Lock()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bridge = serve(port, tmp_path / "serve.log", {
        "DELIVERY_MODE": "thread",
        "DELIVERY_RETRY": {"max_attempts": 1000, "backoff_factor": 0.05, "backoff_max": 1.0},
        "CALLBACK_CONNECT_TIMEOUT": 0.5, "CALLBACK_READ_TIMEOUT": 0.3,
        "WORKER_POLL_INTERVAL": 0.1, "QUEUES": ["test-pull"],
        "ALLOWED_CALLBACK_ORIGINS": ["http://127.0.0.1:*"],
    }, workers=2, threads=8, env={"XQB_TEST_EVENT_SINK_URL": score_sink.callback_url(block="events"),
                                  "XQB_TEST_EVENT_COURSES": EVENT_COURSE})

    def submitter(numbers: range) -> None:
        client = LmsClient(base, LMS_USER, LMS_PASSWORD)
        for n in numbers:
            path = "event" if n % 4 == 0 else "callback"
            key = f"soak-{n:06d}-{path}"
            with lock:
                keys[path].add(key)
            (score_sink if path == "event" else lms_server).expect(key)
            course = EVENT_COURSE if path == "event" else CALLBACK_COURSE
            url = lms_server.callback_url(course_id=course, user_id=n, block=f"s{n}")
            code, content = client.submit(make_header(url, key, "test-pull"), make_body(f"answer {n}", f"anon-{n}"))
            if code:
                errors.append(f"submit {n}: {content}")

    def grader(n: int) -> None:
        client = GraderClient(base, GRADER_USER, GRADER_PASSWORD)
        if not client.login():
            errors.append(f"grader {n} could not log in")
            return
        local = random.Random(n)
        for _ in range(size * 4):  # bounded
            item = client.get_submission("test-pull")
            if item is None:
                if submitted_all.is_set() and len(replied) >= size:
                    return
                time.sleep(0.01)
                continue
            reply = json.dumps({**REPLY, "score": local.choice([0.0, 0.25, 0.5, 1.0])})
            ok, content = client.put_result(item["xqueue_header"], reply)
            if not ok:
                errors.append(f"put_result: {content}")
            if local.random() < 0.05:  # the grader's timeout retry: the same reply again
                duplicates.append(client.put_result(item["xqueue_header"], reply))
            with lock:
                replied.append(1)

    def outage() -> None:
        wait_for(lambda: len(replied) >= size * 0.4, timeout=1200, poll=0.05)
        lms_server.stop()
        time.sleep(2.0)
        lms_server.start()

    started = time.monotonic()
    try:
        threads = [threading.Thread(target=submitter, args=(range(i, size, SUBMITTERS),)) for i in range(SUBMITTERS)]
        threads += [threading.Thread(target=grader, args=(n,)) for n in range(GRADERS)]
        threads.append(threading.Thread(target=outage))
        for thread in threads:
            thread.start()
        for thread in threads[:SUBMITTERS]:
            thread.join(timeout=1800)
        submitted_all.set()
        for thread in threads[SUBMITTERS:]:
            thread.join(timeout=1800)
        settled = wait_for(lambda: not Delivery.objects.filter(status="pending").exists(), timeout=600, poll=0.2)
        elapsed = time.monotonic() - started
    finally:
        bridge.stop()
        score_sink.close()

    attempts = list(Delivery.objects.values_list("attempts", flat=True))
    lost = len(keys["callback"] - lms_server.applied_keys()) + len(keys["event"] - score_sink.applied_keys())
    doubled = len(lms_server.doubly_applied()) + len(score_sink.doubly_applied())
    resent = sum(n - 1 for n in lms_server.callbacks_per_key().values())
    resent += sum(n - 1 for n in score_sink.callbacks_per_key().values())
    repeats_ignored = lms_server.repeats_ignored + score_sink.repeats_ignored
    with capsys.disabled():
        print(
            f"\nsoak on {connection.vendor}: {size} results ({len(keys['callback'])} by callback, "
            f"{len(keys['event'])} by event) in {elapsed:.1f} s = {size / elapsed:.1f} results/s; "
            f"{sum(attempts)} delivery attempts ({sum(attempts) - len(attempts)} retries, at most {max(attempts)} "
            f"for one result); faults served by the LMS {dict(lms_server.faults_served)} and by the event "
            f"receiver's store {dict(score_sink.faults_served)}; LMS outage 2.0 s; callbacks and events received "
            f"again for a result (after any failed attempt) {resent}, of which {repeats_ignored} for a result "
            f"already applied (ignored by the key rule); duplicate replies sent by graders {len(duplicates)}; "
            f"lost {lost}; duplicated learner updates {doubled}\n"
        )

    assert errors == [] and settled, bridge.log()
    assert all(duplicate == (True, "") for duplicate in duplicates)
    assert Submission.objects.count() == size == len(attempts)  # one delivery per result, duplicates or not
    assert set(Submission.objects.values_list("status", flat=True)) == {"graded"}
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert lms_server.applied_keys() == keys["callback"] and score_sink.applied_keys() == keys["event"]  # 0 lost
    assert lms_server.doubly_applied() == {} and score_sink.doubly_applied() == {}  # 0 applied twice
