"""
A bridge process killed with SIGKILL in the middle of deliveries loses nothing: ``xqueue-bridge serve``
runs as a real process group on the test database, is killed while callbacks are in flight, and a new
one delivers everything that was acknowledged to the grader. Deliveries that were in flight at the kill
are sent again once their lease runs out (at-least-once); the LMS, keyed on the queue key, applies each
result once.
"""

from __future__ import annotations

import pytest

from tests.support.grading import run_loop
from tests.support.lms import Fault
from tests.support.processes import free_port, serve
from tests.support.waiting import wait_for
from xqueue_bridge.models import Delivery, Submission

RESULTS = 30
PROCESS_SETTINGS = {
    "DELIVERY_MODE": "thread",
    "DELIVERY_THREADS": 2,
    "DELIVERY_LEASE": 2,
    "WORKER_POLL_INTERVAL": 0.1,
    "DELIVERY_RETRY": {"max_attempts": 1000, "backoff_factor": 0.05, "backoff_max": 0.2},
    "QUEUES": ["test-pull"],
}


@pytest.mark.slow
def test_a_bridge_killed_mid_delivery_delivers_every_acknowledged_result_after_restart(
    transactional_db, xqueue_accounts, lms_server, tmp_path
):
    lms_server.fault_for = lambda key: Fault("slow", seconds=0.4)  # a busy LMS: callbacks stay in flight
    port = free_port()
    first = serve(port, tmp_path / "first.log", PROCESS_SETTINGS)
    try:
        keys = run_loop(f"http://127.0.0.1:{port}", lms_server, RESULTS)
        assert wait_for(lambda: len(lms_server.calls) >= 6, timeout=60), first.log()
    finally:
        first.kill()

    in_flight = set(
        Delivery.objects.filter(status="pending").exclude(lease_token="").values_list("submission__lms_key", flat=True)
    )
    left = Delivery.objects.exclude(status="delivered").count()
    assert left > 0 and in_flight, "the kill should have come with callbacks in flight and results left"
    assert Submission.objects.filter(status="graded").count() == RESULTS  # every acknowledged reply was kept

    second = serve(free_port(), tmp_path / "second.log", PROCESS_SETTINGS)
    try:
        delivered = wait_for(lambda: not Delivery.objects.exclude(status="delivered").exists(), timeout=120)
        assert delivered, second.log()
    finally:
        second.stop()

    assert lms_server.applied_keys() == set(keys)
    assert lms_server.doubly_applied() == {}
    repeated = {key for key, count in lms_server.callbacks_per_key().items() if count > 1}
    assert repeated <= in_flight  # only what was in flight at the kill was sent twice
