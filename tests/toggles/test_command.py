"""The ``rollout`` command: show, set, unset, percentage, history and flags, as a table or JSON."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from xqueue_bridge.stage import rollout

COURSE = "course-v1:edX+Physics+2026"

pytestmark = pytest.mark.django_db


# These tests are about the command's output, not the stage guard (tests/shadow/test_guarded_moves.py):
# each change is a known, deliberate one.
GUARD_OFF = ("--allow-unseen", "--force")


def run(*args) -> str:
    out = StringIO()
    call_command("rollout", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def run_json(*args):
    return json.loads(run(*args, "--format", "json"))


def test_set_then_show_a_course():
    shown = run_json("set", COURSE, "shadow_callback", "--reason", "pilot", "--by", "ops-alice", *GUARD_OFF)
    assert [(row["target"], row["kind"], row["stage"]) for row in shown] == [
        (COURSE, "course", "shadow_callback")
    ]
    assert shown[0]["reason"].startswith("course override by ops-alice ")
    assert shown[0]["reason"].endswith(": pilot")
    assert rollout.stage_of(COURSE).stage == "shadow_callback"

    table = run("show", COURSE)
    header, line = table.splitlines()
    assert header.split() == ["TARGET", "KIND", "STAGE", "REASON"]
    assert line.split()[:3] == [COURSE, "course", "shadow_callback"]
    assert line.endswith(": pilot")


def test_show_lists_every_flag_decision_in_json():
    run("set", COURSE, "event", "--reason", "pilot", "--by", "ops-alice", *GUARD_OFF)
    [row] = run_json("show", COURSE)
    assert row["flags"]["xqueue_bridge.event_delivery"]["enabled"] is True
    assert row["flags"]["xqueue_bridge.shadow_compare"] == {
        "enabled": False,
        "source": "course",
        "reason": row["reason"],
    }


def test_show_an_org_lists_its_stage_and_its_known_courses():
    run("set", "edX", "shadow_event", "--reason", "whole org", "--by", "ops-bob", *GUARD_OFF)
    run("set", COURSE, "event", "--reason", "early", "--by", "ops-alice", *GUARD_OFF)
    run("set", "course-v1:MITx+6.00x+2026", "callback", "--reason", "hold", "--by", "ops-alice", *GUARD_OFF)
    rows = run_json("show", "edX")
    assert [(row["target"], row["stage"]) for row in rows] == [("edX", "shadow_event"), (COURSE, "event")]


def test_show_without_targets_lists_all_known_courses():
    run("set", COURSE, "event", "--reason", "pilot", "--by", "ops-alice", *GUARD_OFF)
    run("set", "course-v1:MITx+6.00x+2026", "shadow_callback", "--reason", "pilot", "--by", "ops-alice", *GUARD_OFF)
    rows = run_json("show")
    assert {row["target"]: row["stage"] for row in rows} == {
        COURSE: "event",
        "course-v1:MITx+6.00x+2026": "shadow_callback",
    }


def test_unset_shows_the_stage_that_follows():
    run("set", "edX", "shadow_callback", "--reason", "whole org", "--by", "ops-bob", *GUARD_OFF)
    run("set", COURSE, "event", "--reason", "early", "--by", "ops-alice", *GUARD_OFF)
    [row] = run_json("unset", COURSE, "--reason", "back with the org", "--by", "ops-alice", *GUARD_OFF)
    assert row["stage"] == "shadow_callback"
    assert "org override by ops-bob" in row["reason"]


def test_percentage_and_flags():
    rows = run_json("percentage", "event_delivery", "25", "--reason", "ramp", "--by", "ops-alice", "--force")
    assert rows[0] == {
        "flag": "xqueue_bridge.event_delivery",
        "percentage": "25%",
        "global_default": "off",
        "courses_on": 0,
        "courses_off": 0,
        "orgs_on": 0,
        "orgs_off": 0,
    }
    run("set", "edX", "event", "--reason", "org", "--by", "ops-bob", *GUARD_OFF)
    flags = {row["flag"]: row for row in run_json("flags")}
    assert flags["xqueue_bridge.event_delivery"]["orgs_on"] == 1
    assert flags["xqueue_bridge.shadow_compare"]["orgs_off"] == 1
    assert "xqueue_bridge.event_delivery  25%" in run("flags")


def test_percentage_warns_when_courses_would_skip_the_comparison():
    run("percentage", "shadow_compare", "20", "--reason", "pilot", "--by", "ops-alice", "--force")
    err = StringIO()
    call_command("rollout", "percentage", "event_delivery", "20", "--reason", "ramp", "--by", "ops-alice", "--force",
                 stderr=err)
    assert err.getvalue() == ""
    call_command("rollout", "percentage", "event_delivery", "50", "--reason", "ramp", "--by", "ops-alice", "--force",
                 stderr=err)
    assert "Warning: event_delivery (50%) is now above shadow_compare (20%)" in err.getvalue()


def test_history_of_a_course_as_table_and_json():
    run("set", COURSE, "shadow_callback", "--reason", "pilot", "--by", "ops-alice", *GUARD_OFF)
    run("set", COURSE, "shadow_event", "--reason", "no mismatch in a week", "--by", "ops-bob", *GUARD_OFF)
    rows = run_json("history", COURSE)
    assert [(row["change"], row["changed_by"], row["reason"]) for row in rows] == [
        ("stage shadow_event", "ops-bob", "no mismatch in a week"),
        ("stage shadow_callback", "ops-alice", "pilot"),
    ]
    assert rows[0]["changed_at"].endswith("+00:00")
    table = run("history", COURSE, "--limit", "1")
    assert len(table.splitlines()) == 2
    assert "stage shadow_event" in table


def test_by_defaults_to_the_operating_system_user(monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "ops-eve")
    call_command("rollout", "set", COURSE, "event", "--reason", "pilot", "--allow-unseen", "--force", stdout=StringIO())
    assert rollout.history(course=COURSE)[0].changed_by == "ops-eve"


def test_nothing_to_show_says_so():
    assert run("show").strip() == "(nothing)"
