"""``xqueue-bridge shadow-report``: per course, org or queue and stage, as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.support.config import bridge_settings
from tests.support.lms import COURSE
from tests.support.rows import make_comparison

pytestmark = pytest.mark.django_db

OTHER = "course-v1:ElsewhereU+Physics+2026"
ROUNDING = {"points_earned": {"control": 0.5, "candidate": 0.0}}


@pytest.fixture
def comparisons():
    """COURSE in shadow_callback: 3 matched, 2 mismatched, 1 ignored, 1 errored, 1 pending, 1 noise;
    OTHER in shadow_event: 1 matched; and an old mismatch of COURSE, 48 hours ago."""
    made = {}
    for duration in (0.010, 0.020, 0.030):
        make_comparison(status="matched", control_duration=duration, candidate_duration=duration / 10)
    made["rounding"] = [
        make_comparison(status="mismatched", diff=ROUNDING, categories=["points_earned: rounding"],
                        control_duration=0.040, candidate_duration=0.004)
        for _ in range(2)
    ]
    make_comparison(status="ignored", diff=ROUNDING, categories=["points_earned: rounding"],
                    ignored_by=["points_rounding"], control_duration=0.050, candidate_duration=0.005)
    make_comparison(status="errored", error="RuntimeError: boom", control_duration=None, candidate_duration=None)
    make_comparison(status="pending", control_duration=None, candidate_duration=None)
    make_comparison(status="matched", noise=True)
    make_comparison(status="matched", course_id=OTHER, stage="shadow_event", queue="other-queue")
    made["old"] = make_comparison(
        status="mismatched", hours_ago=48, diff={"error": {"control": None, "candidate": "unscorable_reply"}},
        categories=["error: negative_score"],
    )
    return made


def report(*args) -> dict:
    out = io.StringIO()
    call_command("shadow_report", "--format", "json", *args, stdout=out)
    return json.loads(out.getvalue())


def test_json_report_counts_rates_fields_categories_and_durations(comparisons):
    data = report()
    groups = {(group["group"], group["stage"]): group for group in data["groups"]}
    mine = groups[(COURSE, "shadow_callback")]
    assert (mine["control_path"], mine["candidate_path"]) == ("callback", "event")
    assert (mine["comparisons"], mine["pending"]) == (8, 1)
    assert (mine["matched"], mine["mismatched"], mine["ignored"], mine["errored"]) == (3, 3, 1, 1)
    assert (mine["match_rate"], mine["mismatch_rate"], mine["error_rate"]) == (0.4286, 0.4286, 0.125)
    assert mine["mismatched_fields"] == {"points_earned": 2, "error": 1}
    categories = {entry["category"]: entry for entry in mine["categories"]}
    assert categories["points_earned: rounding"]["count"] == 2
    assert [example["submission"] for example in categories["points_earned: rounding"]["examples"]] == [
        comparison.submission_id for comparison in comparisons["rounding"]
    ]
    assert categories["points_earned: rounding"]["examples"][0]["diff"] == ROUNDING
    assert mine["ignored_by"] == {"points_rounding": 1}
    # Nearest-rank percentiles over 10, 20, 30, 40, 40, 50, 10 (the old one) ms.
    assert mine["durations"]["control"] == {"path": "callback", "count": 7, "p50_ms": 30.0, "p99_ms": 50.0}
    assert mine["durations"]["candidate"]["p99_ms"] == 5.0
    assert mine["noise"] == {"comparisons": 1, "mismatched": 0, "mismatch_rate": 0.0}
    assert groups[(OTHER, "shadow_event")]["match_rate"] == 1.0
    assert [rule["name"] for rule in data["clean_rules"]] == ["nbsp", "collapse_whitespace", "points_precision"]
    assert data["ignore_rules"] == []


def test_since_leaves_older_comparisons_out(comparisons):
    mine = {group["group"]: group for group in report("--since", "24h")["groups"]}[COURSE]
    assert mine["comparisons"] == 7
    assert "error" not in mine["mismatched_fields"]


def test_grouping_by_org_and_by_queue(comparisons):
    by_org = {group["group"]: group["comparisons"] for group in report("--by", "org")["groups"]}
    assert by_org == {"BridgeX": 8, "ElsewhereU": 1}
    by_queue = {group["group"]: group["comparisons"] for group in report("--by", "queue")["groups"]}
    assert by_queue == {"test-pull": 8, "other-queue": 1}
    only = report("--course", OTHER)["groups"]
    assert [group["group"] for group in only] == [OTHER]


def test_table_report_reads_by_course_with_examples(comparisons):
    out = io.StringIO()
    with bridge_settings(shadow={"IGNORE_RULES": ["points_rounding"]}):
        call_command("shadow_report", stdout=out)
    text = out.getvalue()
    assert "Clean rules: nbsp, collapse_whitespace, points_precision" in text
    assert "Ignore rules: points_rounding" in text
    assert f"{COURSE}  [shadow_callback: control callback, candidate event]" in text
    assert ("comparisons 8 (pending 1): matched 3, mismatched 3, ignored 1, errored 1; "
            "match rate 42.9%, mismatch rate 42.9%") in text
    assert "duration ms: control callback p50 30 p99 50; candidate event p50 3 p99 5" in text
    assert "mismatches by field: points_earned 2, error 1" in text
    assert "    points_earned: rounding  2" in text
    rounding = comparisons["rounding"][0]
    assert (f"      e.g. submission {rounding.submission_id}: points_earned control 0.5, candidate 0.0") in text
    assert "ignored by: points_rounding 1" in text
    assert "noise baseline: 1 comparisons, 0 mismatched (0.0%)" in text


def test_csv_report_has_a_row_per_group(comparisons):
    out = io.StringIO()
    call_command("shadow_report", "--format", "csv", stdout=out)
    rows = {row["group"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}
    assert set(rows) == {COURSE, OTHER}
    mine = rows[COURSE]
    assert (mine["stage"], mine["comparisons"], mine["mismatched"], mine["mismatch_rate"]) == (
        "shadow_callback", "8", "3", "0.4286"
    )
    assert mine["categories"] == "points_earned: rounding=2; error: negative_score=1"
    assert (mine["control_p50_ms"], mine["control_p99_ms"]) == ("30.0", "50.0")


def test_empty_report_and_a_bad_since():
    out = io.StringIO()
    call_command("shadow_report", stdout=out)
    assert "no comparisons" in out.getvalue()
    with pytest.raises(CommandError, match="expected a duration such as 24h"):
        call_command("shadow_report", "--since", "yesterday-ish")


def test_pending_only_group_is_listed():
    make_comparison(status="pending")
    [group] = report()["groups"]
    assert (group["group"], group["comparisons"], group["pending"]) == (COURSE, 0, 1)
