"""``xqueue-bridge demo``, run as an operator runs it: a child process on its own throw-away SQLite."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

STAGES = ("callback", "shadow_callback", "shadow_event", "event")


def _run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("XQUEUE_BRIDGE", "DJANGO"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env["TMPDIR"] = str(tmp_path)  # the demo's throw-away folder goes here, so the test sees it go
    return subprocess.run(
        [sys.executable, "-m", "xqueue_bridge", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )


def _courses(out: str) -> dict[str, str]:
    """Course id -> its block of the demo's output."""
    blocks = re.split(r"^(?=course-v1:\S+$)", out.split("Shadow report")[0], flags=re.MULTILINE)
    return {block.splitlines()[0]: block for block in blocks if block.startswith("course-v1:")}


def test_the_demo_moves_courses_through_the_stages_and_leaves_nothing_behind(tmp_path):
    done = _run("demo", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout

    courses = _courses(out)
    stage_now = {course: re.search(r"stage now: (\w+) \((.+)\)", block).groups() for course, block in courses.items()}
    assert {stage for stage, _ in stage_now.values()} == set(STAGES)
    assert any(reason.startswith("course override by ") for _, reason in stage_now.values())
    assert any(reason.startswith("org override by ") for _, reason in stage_now.values())

    # One course goes through all four stages, one learner per stage, each result by its stage's path.
    journey = [block for block in courses.values() if "step 1 of the journey" in block]
    assert len(journey) == 1
    learners = re.findall(r"learner \d+ \[(\w+): [^\]]+\]\n\s+result by (\w+): (\w+); learner sees", journey[0])
    assert [stage for stage, _, _ in learners] == list(STAGES)
    assert [path for _, path, _ in learners] == ["callback", "callback", "event", "event"]

    # Every learner's result is delivered and shown.
    results = re.findall(r"result by (\w+): (\w+); learner sees (correct|incorrect), ([\d.]+)/1 points", out)
    graded = int(re.search(r"(\d+) submissions graded", out).group(1))
    assert graded >= 8 and len(results) == graded
    assert {status for _, status, _, _ in results} == {"delivered"}
    assert {path for path, _, _, _ in results} == {"callback", "event"}

    # It ends with the shadow report (the rounding difference shows) and readiness.
    report, readiness = out.split("Shadow report", 1)[1].split("Readiness", 1)
    assert "what the record says: differs 2 (66.7%): points_earned: rounding x2" in report
    # The partial-credit courses are ready on what their learners get; the rounding is a note of record.
    assert re.search(r"course-v1:DemoX\+Pilot\+2026\s+shadow_callback\s+shadow_event\s+yes", readiness)
    assert re.search(r"course-v1:DemoX\+Proving\+2026\s+shadow_event\s+event\s+yes", readiness)
    assert "record: the event carries points_earned as a rounded integer" in readiness
    # The journey's moves past unmet readiness were refused, then forced, and the switch-off check says so.
    assert "shadow_callback -> shadow_event: readiness in shadow_callback not met" in out
    assert "NOT CLEAR  forced moves not cleared: 3" in readiness

    # Nothing left running, nothing left on disk.
    port = int(re.search(r"Bridge serving on http://127\.0\.0\.1:(\d+)", out).group(1))
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    assert "nothing is left running" in out
    assert not list(tmp_path.glob("xqueue-bridge-demo-*"))


def test_the_demo_refuses_a_configured_database(tmp_path):
    done = _run("manage", "demo", tmp_path=tmp_path)
    assert done.returncode == 1
    assert "runs only on a throw-away SQLite database" in done.stderr
    assert not (tmp_path / ".xqueue-bridge" / "xqueue-bridge.sqlite3").exists()
