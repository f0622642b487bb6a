"""One command line: every listing command prints table, JSON or CSV, a queues command, and each --help
ends with examples that work as printed (this test runs them)."""

from __future__ import annotations

import csv
import io
import json
import shlex

import pytest
from django.core.management import call_command, get_commands, load_command_class

from tests.support import cockpit as seed
from xqueue_bridge.listing import WithExamples
from xqueue_bridge.management.commands.users import ensure_user

BRIDGE_COMMANDS = [
    "deliveries", "queues", "replay", "rollout", "users", "shadow_report", "readiness", "purge_comparisons",
    "purge_submissions", "worker", "serve", "demo",
]
# Commands that run until stopped (or start servers of their own): their examples are parsed, not run.
LONG_RUNNING = {"serve", "demo"}


def _command(name: str):
    return load_command_class(get_commands()[name], name)


def _examples(name: str) -> list[list[str]]:
    parser = _command(name).create_parser("xqueue-bridge", name)
    lines = parser.epilog.splitlines()
    assert lines[0] == "examples:" and len(lines) > 1, name
    runs = []
    for line in lines[1:]:
        words = shlex.split(line)
        while "=" in words[0] or words[0] == "nice":  # VAR=value and nice before the command
            words.pop(0)
        assert words[0] == "xqueue-bridge" and words[1].replace("-", "_") == name, line
        runs.append(words[2:])
    return runs


def test_every_bridge_command_ends_its_help_with_examples():
    for name in BRIDGE_COMMANDS:
        command = _command(name)
        assert isinstance(command, WithExamples), name
        help_text = command.create_parser("xqueue-bridge", name).format_help()
        assert help_text.rstrip().splitlines()[-1].startswith("  xqueue-bridge ") or "xqueue-bridge" in \
            help_text.rstrip().splitlines()[-1], name


def test_the_examples_of_every_help_work_as_printed(transactional_db, capsys):
    seed.make_staff()
    subs = seed.submissions(["course-v1:edX+DemoX+2026"] * 2, stage="shadow_callback")
    seed.deliveries(subs[:1], status="dead", attempts=3)
    seed.comparisons(subs)
    for name in BRIDGE_COMMANDS:
        for args in _examples(name):
            if name in LONG_RUNNING:
                if name == "demo":
                    args = [arg for arg in args if arg != "--keep"]  # the command line's own option
                _command(name).create_parser("xqueue-bridge", name).parse_args(args)
                continue
            if name == "worker" and "--once" not in args:
                _command(name).create_parser("xqueue-bridge", name).parse_args(args)
                continue
            call_command(name, *args)
            out = capsys.readouterr().out
            if "--format" in args and args[args.index("--format") + 1] == "json":
                json.loads(out)
            elif "--format" in args and args[args.index("--format") + 1] == "csv":
                assert list(csv.reader(io.StringIO(out)))[0], (name, args)


@pytest.mark.parametrize("name, args, columns", [
    ("deliveries", [], "id,submission,course,queue,stage,kind,path,status,attempts,last_error"),
    ("queues", [], "queue,status,count,oldest_age"),
    ("replay", ["--course", "course-v1:edX+DemoX+2026", "--dry-run"], "id,submission,course,path,status,replay,"
                                                                       "last_error"),
    ("rollout", ["show"], "target,kind,stage,reason"),
    ("users", ["--list"], "username,access,active"),
    ("readiness", [], None),
    ("shadow_report", [], None),
])
def test_every_listing_command_prints_table_json_and_csv(db, capsys, name, args, columns):
    ensure_user("lms", "lms-password")
    subs = seed.submissions(["course-v1:edX+DemoX+2026"], stage="shadow_callback", status="queued")
    seed.deliveries(subs, status="dead", attempts=2)
    seed.comparisons(subs)
    outputs = {}
    for fmt in ("table", "json", "csv"):
        call_command(name, *args, "--format", fmt)
        outputs[fmt] = capsys.readouterr().out
    assert outputs["table"].strip()
    json.loads(outputs["json"])
    header = outputs["csv"].splitlines()[0]
    if columns:
        assert header == columns


def test_queues_shows_length_and_oldest_age_by_status(db, capsys):
    seed.submissions(["course-v1:edX+DemoX+2026"] * 3, status="queued", hours_ago=2)
    seed.submissions(["course-v1:edX+DemoX+2026"], status="pulled", queue="python-grader")
    call_command("queues")
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["queue", "status", "count", "oldest_age"]
    assert ["test-pull", "queued", "3", "2.0", "h"] in [line.split() for line in table]
    assert ["python-grader", "pulled", "1", "60", "min"] in [line.split() for line in table]
    call_command("queues", "--queue", "python-grader", "--format", "json")
    rows = json.loads(capsys.readouterr().out)
    assert {row["queue"] for row in rows} == {"python-grader"}
