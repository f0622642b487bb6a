"""
``xqueue-bridge serve`` as a child process: what the demo and the benchmarks run the bridge in.

The child gets a process group of its own, so stopping it stops gunicorn's workers too and nothing is
left running.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests


def free_port() -> int:
    """A TCP port on loopback that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServeProcess:
    """``xqueue-bridge serve --no-migrate`` on a loopback port, in its own process group."""

    def __init__(self, port: int | None = None, *, workers: int = 2, threads: int = 4, env: dict | None = None,
                 options: tuple[str, ...] = ()):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The server's output goes to a file, never to a pipe nobody reads (a full pipe would block it).
        self.output = tempfile.TemporaryFile()  # noqa: SIM115 (kept for the child's lifetime)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "xqueue_bridge", "serve", "--no-migrate", "--port", str(self.port),
             "--workers", str(workers), "--threads", str(threads), *options],
            env={**os.environ, **(env or {})}, start_new_session=True,
            stdout=self.output, stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        """The last lines the server wrote."""
        self.output.seek(0)
        return self.output.read().decode("utf-8", "replace")[-3000:]

    def wait_ready(self, timeout: float = 60.0) -> ServeProcess:
        """Return once the bridge answers ``/xqueue/status/``; raise with its output if it exits or never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the bridge server exited:\n{self.log()}")
            try:
                if requests.get(self.url + "/xqueue/status/", timeout=1).json()["return_code"] == 0:
                    return self
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.1)
        output = self.log()
        self.stop()
        raise RuntimeError(f"the bridge server did not answer on {self.url} within {timeout:.0f} s:\n{output}")

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the whole group (gunicorn shuts down gracefully), SIGKILL if that takes too long."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.output.close()
