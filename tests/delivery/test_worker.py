"""``xqueue-bridge worker`` as a real process: it delivers what is due, retries, and stops on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from tests.support.config import bridge_settings
from tests.support.grading import REPLY
from tests.support.lms import Fault, FaultPlan
from tests.support.processes import BridgeProcess
from tests.support.waiting import wait_for

WORKER_SETTINGS = {"DELIVERY_MODE": "worker", "WORKER_POLL_INTERVAL": 0.1,
                   "DELIVERY_RETRY": {"backoff_factor": 0.05, "backoff_max": 0.2}}


@pytest.mark.slow
def test_the_worker_process_delivers_and_retries_until_stopped(queue, lms_server, tmp_path):
    lms_server.fault_for = FaultPlan(failures=2, fault=Fault("status", status=500))
    with bridge_settings(DELIVERY_MODE="worker"):  # the web side leaves everything to the worker
        submissions = queue.grade(5)
    assert lms_server.calls == []
    worker = BridgeProcess([sys.executable, "-m", "xqueue_bridge", "worker"], log_path=tmp_path / "worker.log",
                           bridge_settings=WORKER_SETTINGS).start()
    try:
        assert wait_for(lambda: len(lms_server.applied_keys()) == 5, timeout=60), worker.log()
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(timeout=30) == 0  # a clean stop on SIGTERM
    finally:
        worker.stop()
    assert lms_server.applied_keys() == {s.lms_key for s in submissions}
    assert set(lms_server.callbacks_per_key().values()) == {3}
    assert {json.loads(bodies[0])["score"] for bodies in lms_server.updates.values()} == {REPLY["score"]}


def test_worker_once_drains_what_is_due_and_exits(queue, lms_server, tmp_path):
    with bridge_settings(DELIVERY_MODE="worker"):
        submissions = queue.grade(3)
    once = BridgeProcess([sys.executable, "-m", "xqueue_bridge", "worker", "--once"],
                         log_path=tmp_path / "once.log", bridge_settings=WORKER_SETTINGS)
    finished = subprocess.run(once.args, env=once.env, cwd=once.env["PYTHONPATH"], capture_output=True, text=True,
                              timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "3 items processed"
    assert lms_server.applied_keys() == {s.lms_key for s in submissions}
