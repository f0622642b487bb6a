"""
A first run without traps: following the README in order works on a fresh home, and every problem with
the environment is one line on stderr that names the setting, with exit status 2 (never a traceback).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.processes import ROOT, free_port


def run(args: list[str], home, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("XQUEUE_BRIDGE_", "DJANGO_SETTINGS", "DATABASE_URL", "REDIS_URL"))}
    clean.update(XQUEUE_BRIDGE_HOME=str(home), PYTHONPATH=str(ROOT), **env)
    return subprocess.run([sys.executable, "-m", "xqueue_bridge", *args], env=clean, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("xqueue-bridge: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_the_readmes_commands_in_order_work_on_a_fresh_home(tmp_path):
    home = tmp_path / "home"
    created = run(["users", "--lms", "lms:LMS_PASSWORD", "--grader", "grader:GRADER_PASSWORD"], home)
    assert created.returncode == 0 and created.stderr == "", created.stderr  # migrated on the way
    assert "created lms" in created.stdout and "created grader" in created.stdout
    staff = run(["users", "--staff", "operator:OPERATOR_PASSWORD"], home)
    assert staff.returncode == 0 and staff.stderr == "", staff.stderr
    assert "created operator (staff: dashboard, API, admin)" in staff.stdout
    listed = run(["users", "--list", "--format", "csv"], home)
    assert listed.returncode == 0 and listed.stderr == ""
    assert [line.split(",")[0] for line in listed.stdout.splitlines()] == ["username", "grader", "lms"]


def test_without_auto_migration_a_command_says_what_to_run(tmp_path):
    assert_one_line_error(run(["deliveries"], tmp_path / "home", XQUEUE_BRIDGE_AUTO_MIGRATE="0"),
                          "unapplied migrations", "xqueue-bridge manage migrate")


@pytest.mark.parametrize("name, value", [
    ("XQUEUE_BRIDGE_POINTS_POSSIBLE", '{"course-v1:edX+DemoX+2026": 2'),
    ("XQUEUE_BRIDGE_USERS", "lms:secret"),
    ("XQUEUE_BRIDGE_USERS", '["lms", "secret"]'),
    ("XQUEUE_BRIDGE_PULL_TIMEOUT", "five minutes"),
    ("XQUEUE_BRIDGE_LOG_FORMAT", "xml"),
    ("DATABASE_URL", "oracle-ish://db"),
])
def test_a_setting_that_does_not_parse_is_one_line_naming_it(tmp_path, name, value):
    assert_one_line_error(run(["users", "--list"], tmp_path / "home", **{name: value}), name)


def test_a_home_that_cannot_be_created_is_one_line_naming_it(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert_one_line_error(run(["users", "--list"], blocker / "home"), "XQUEUE_BRIDGE_HOME", "cannot be created")


def test_a_database_that_does_not_answer_is_one_line_without_its_password(tmp_path):
    url = f"postgres://bridge:s3cret-pw@127.0.0.1:{free_port()}/xqb"
    result = run(["deliveries"], tmp_path / "home", DATABASE_URL=url)
    assert_one_line_error(result, "DATABASE_URL=postgres://127.0.0.1:", "does not answer")
    assert "s3cret-pw" not in result.stderr


def test_a_redis_that_does_not_answer_is_one_line_naming_redis_url(tmp_path):
    result = run(["worker", "--once"], tmp_path / "home", REDIS_URL=f"redis://:s3cret-pw@127.0.0.1:{free_port()}/0")
    assert_one_line_error(result, "REDIS_URL=redis://127.0.0.1:", "does not answer")
    assert "s3cret-pw" not in result.stderr
