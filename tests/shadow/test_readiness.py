"""``xqueue-bridge readiness``: which courses may move to the next stage, and why the others may not."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import set_stage
from tests.shadow.conftest import bridge_settings, make_comparison, make_submission
from xqueue_bridge.shadow.models import GuardrailMove

pytestmark = pytest.mark.django_db(transaction=True)

READY = "course-v1:ReadyX+Done+2026"
FEW = "course-v1:ReadyX+Few+2026"
YOUNG = "course-v1:ReadyX+Young+2026"
DIFFERENT = "course-v1:ReadyX+Different+2026"
BROKEN = "course-v1:ReadyX+Broken+2026"
LEGACY = "course-v1:ReadyX+Legacy+2026"
MOVED = "course-v1:ReadyX+Moved+2026"
THRESHOLDS = {"MIN_COMPARISONS": 3, "MIN_HOURS": 2.0, "MAX_MISMATCH_RATE": 0.1, "MAX_ERROR_RATE": 0.0}


def readiness(*args) -> dict:
    out = io.StringIO()
    with bridge_settings(READINESS=THRESHOLDS):
        call_command("readiness", "--format", "json", *args, stdout=out)
    return {item["course_id"]: item for item in json.loads(out.getvalue())["courses"]}


def compared(course_id: str, stage: str, statuses, *, hours_ago: float = 5.0, **fields) -> None:
    for number, status in enumerate(statuses):
        make_comparison(course_id=course_id, stage=stage, status=status, hours_ago=hours_ago - number * 0.1,
                        **fields)


def test_a_course_with_enough_agreeing_comparisons_over_enough_time_is_ready():
    set_stage("shadow_callback", course_id=READY)
    compared(READY, "shadow_callback", ["matched", "matched", "ignored"])
    compared(READY, "shadow_callback", ["mismatched"], noise=True)  # the noise baseline does not count

    item = readiness("--course", READY)[READY]
    assert (item["stage"], item["next_stage"], item["ready"], item["comparisons"]) == (
        "shadow_callback", "shadow_event", True, 3
    )
    assert item["mismatch_rate"] == 0.0
    assert item["reasons"][0].startswith("3 comparisons over 5.0 h, mismatch rate 0.0%")


def test_each_unmet_condition_is_a_reason():
    for course in (FEW, YOUNG, DIFFERENT, BROKEN):
        set_stage("shadow_event", course_id=course)
    compared(FEW, "shadow_event", ["matched", "matched"])
    compared(YOUNG, "shadow_event", ["matched"] * 3, hours_ago=0.5)
    compared(DIFFERENT, "shadow_event", ["matched", "matched", "mismatched"],
             categories=["points_earned: rounding"])
    compared(BROKEN, "shadow_event", ["matched", "matched", "matched", "errored"])

    items = readiness()
    assert not any(items[course]["ready"] for course in (FEW, YOUNG, DIFFERENT, BROKEN))
    assert items[FEW]["reasons"] == ["2 comparisons in shadow_event, at least 3 needed"]
    assert items[YOUNG]["reasons"] == ["compared for 0.5 h, at least 2 h needed"]
    assert items[DIFFERENT]["reasons"] == [
        "mismatch rate 33.3% is above 10.0% (most: points_earned: rounding x1)"
    ]
    assert items[BROKEN]["reasons"] == ["error rate 25.0% (1 errored) is above 0.0%"]


def test_only_comparisons_of_the_current_stage_count():
    set_stage("shadow_event", course_id=READY)
    compared(READY, "shadow_callback", ["matched"] * 5)

    item = readiness("--course", READY)[READY]
    assert not item["ready"]
    assert item["reasons"] == [
        "0 comparisons in shadow_event, at least 3 needed", "no comparisons yet, at least 2 h needed",
    ]


def test_callback_may_start_shadowing_and_event_is_the_last_stage():
    set_stage("callback", course_id=LEGACY)
    set_stage("event", course_id=READY)
    make_submission(course_id=LEGACY, stage="callback")  # courses the bridge has seen (else: "no data")
    make_submission(course_id=READY, stage="event")

    items = readiness()
    assert (items[LEGACY]["ready"], items[LEGACY]["next_stage"]) == (True, "shadow_callback")
    assert (items[READY]["ready"], items[READY]["next_stage"]) == (False, None)
    assert "last stage" in items[READY]["reasons"][0]


def test_a_guardrail_move_starts_the_count_again():
    set_stage("shadow_callback", course_id=MOVED)
    compared(MOVED, "shadow_callback", ["matched"] * 4, hours_ago=10)
    GuardrailMove.objects.create(
        course_id=MOVED, from_stage="shadow_event", to_stage="shadow_callback", reason="guardrail: test",
        results=20, mismatch_rate=0.5, created_at=timezone.now() - timedelta(hours=3),
    )
    compared(MOVED, "shadow_callback", ["matched"], hours_ago=1)

    item = readiness("--course", MOVED)[MOVED]
    assert (item["ready"], item["comparisons"]) == (False, 1)
    assert item["reasons"][-1].startswith("counted from the guardrail's move back on ")


def test_options_override_the_settings_for_one_run():
    set_stage("shadow_callback", course_id=FEW)
    compared(FEW, "shadow_callback", ["matched"])

    assert not readiness("--course", FEW)[FEW]["ready"]
    assert readiness("--course", FEW, "--min-comparisons", "1", "--min-hours", "1")[FEW]["ready"]


def test_table_and_csv():
    set_stage("shadow_callback", course_id=READY)
    set_stage("shadow_event", course_id=FEW)
    compared(READY, "shadow_callback", ["matched"] * 3)
    compared(FEW, "shadow_event", ["matched"])

    table, sheet = io.StringIO(), io.StringIO()
    with bridge_settings(READINESS=THRESHOLDS):
        call_command("readiness", "--org", "ReadyX", stdout=table)
        call_command("readiness", "--format", "csv", "--course", READY, "--course", FEW, stdout=sheet)
    lines = table.getvalue().splitlines()
    assert lines[0] == (
        "A shadow course may move on after at least 3 comparisons over at least 2 h, with a learner-visible "
        "mismatch rate at or below 10.0% and an error rate at or below 0.0%; differences of record are not held "
        "to it (setting READINESS)."
    )
    assert lines[2].split() == ["course", "stage", "next_stage", "ready", "comparisons", "hours", "mismatch_rate",
                                "error_rate", "record_differences"]
    row = next(line for line in lines if line.startswith(READY))
    assert row.split()[:5] == [READY, "shadow_callback", "shadow_event", "yes", "3"]
    assert "    1 comparisons in shadow_event, at least 3 needed" in lines
    rows = {row["course"]: row for row in csv.DictReader(io.StringIO(sheet.getvalue()))}
    assert (rows[READY]["ready"], rows[FEW]["ready"]) == ("yes", "no")
    assert rows[FEW]["why"] == "1 comparisons in shadow_event, at least 3 needed"
