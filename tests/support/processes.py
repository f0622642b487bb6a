"""
The bridge as separate processes, for the crash, Celery and event bus tests: ``xqueue-bridge serve`` or a
Celery worker started on the test database with ``tests.support.process_settings``, stopped by process
group; and the environment of a child process on the standalone settings.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests
from django.db import connection

from tests.support.waiting import wait_for
from xqueue_bridge.runtime.process import free_port  # noqa: F401  (the suites import it from here)

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the test database this test runs on, for a process started now."""
    config = connection.settings_dict
    vendor = connection.vendor
    if vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    scheme = {"mysql": "mysql", "postgresql": "postgres"}[vendor]
    credentials = config["USER"] + (f":{config['PASSWORD']}" if config["PASSWORD"] else "")
    return f"{scheme}://{credentials}@{config['HOST']}:{config['PORT']}/{config['NAME']}"


def bridge_process_env(**extra: str) -> dict:
    """Environment of an ``xqueue-bridge`` child process on the tests' database (the standalone settings)."""
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


class BridgeProcess:
    """One bridge process (and its children) started in its own process group."""

    def __init__(self, args: list[str], *, log_path: Path, bridge_settings: dict | None = None,
                 env: dict | None = None):
        self.args, self.log_path = args, log_path
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.support.process_settings",
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": database_url(),
            "XQB_TEST_BRIDGE_SETTINGS": json.dumps(bridge_settings or {}),
            "XQUEUE_BRIDGE_LOG_LEVEL": "WARNING",
            **(env or {}),
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> BridgeProcess:
        log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the child's lifetime)
        self.process = subprocess.Popen(
            self.args, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL the whole process group: no cleanup, no graceful shutdown."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL whatever is left after 15 s."""
        self._signal(signal.SIGTERM, wait=15)
        self._signal(signal.SIGKILL)

    def _signal(self, sig: int, wait: float = 10) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass
        if sig == signal.SIGKILL:
            try:  # children orphaned by a dead parent are still in the group
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def serve(port: int, log_path: Path, bridge_settings: dict, workers: int = 2, threads: int = 4,
          options: tuple[str, ...] = (), env: dict | None = None) -> BridgeProcess:
    """``xqueue-bridge serve`` on ``port``, started and answering."""
    process = BridgeProcess(
        [sys.executable, "-m", "xqueue_bridge", "serve", "--no-migrate", "--port", str(port),
         "--workers", str(workers), "--threads", str(threads), *options],
        log_path=log_path, bridge_settings=bridge_settings, env=env,
    ).start()

    def answering() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/xqueue/status/", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    if not wait_for(lambda: answering() or not process.alive(), timeout=60, poll=0.1) or not process.alive():
        process.stop()
        raise AssertionError(f"xqueue-bridge serve did not start:\n{process.log()}")
    return process
