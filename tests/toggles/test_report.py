"""The two flags are in edx-toggles' state report, with annotations its tools accept."""

from __future__ import annotations

from pathlib import Path

import code_annotations
import pytest
from click.testing import CliRunner
from code_annotations.cli import entry_point
from edx_toggles.toggles.state import ToggleStateReport
from waffle.testutils import override_flag

from toggles.report import CourseFlagStateReport
from xqueue_bridge.flags import EVENT_DELIVERY, SHADOW_COMPARE
from xqueue_bridge.stage import rollout

FLAGS_MODULE = Path(__file__).resolve().parents[2] / "xqueue_bridge" / "flags.py"
TOGGLE_CONFIG = (
    Path(code_annotations.__file__).parent / "contrib" / "config" / "feature_toggle_annotations.yaml"
)

pytestmark = pytest.mark.django_db


def by_name(report: dict) -> dict:
    return {flag["name"]: flag for flag in report["waffle_flags"]}


def test_both_flags_are_in_the_edx_toggles_state_report():
    flags = by_name(ToggleStateReport().as_dict())
    for flag in (EVENT_DELIVERY, SHADOW_COMPARE):
        assert flags[flag.name]["class"] == "CourseFlag"
        assert flags[flag.name]["module"] == "xqueue_bridge.flags"
        assert flags[flag.name]["computed_status"] == "off"


def test_the_report_reads_the_global_layer_from_waffle():
    with override_flag(EVENT_DELIVERY.name, active=True):
        flags = by_name(ToggleStateReport().as_dict())
    assert flags[EVENT_DELIVERY.name]["everyone"] == "yes"
    assert flags[EVENT_DELIVERY.name]["computed_status"] == "on"


def test_the_course_flag_report_adds_overrides_and_percentage():
    rollout.set_stage("course-v1:edX+Physics+2026", "shadow_callback", reason="pilot", changed_by="ops-alice",
        force=True, allow_unseen=True)
    rollout.set_stage("MITx", "event", reason="org", changed_by="ops-bob", force=True, allow_unseen=True)
    rollout.set_percentage("event_delivery", 10, reason="ramp", changed_by="ops-alice", force=True)
    flags = by_name(CourseFlagStateReport().as_dict())
    event, shadow = flags[EVENT_DELIVERY.name], flags[SHADOW_COMPARE.name]
    assert event["course_overrides"] == {"on": 0, "off": 1}
    assert event["org_overrides"] == {"on": 1, "off": 0}
    assert event["percentage"] == "10.00"
    assert event["computed_status"] == "both"
    assert shadow["course_overrides"] == {"on": 1, "off": 0}
    assert shadow["percentage"] is None
    assert shadow["computed_status"] == "both"


def test_the_toggle_annotations_pass_the_edx_toggles_lint(tmp_path):
    result = CliRunner().invoke(
        entry_point,
        [
            "static_find_annotations",
            "--config_file",
            str(TOGGLE_CONFIG),
            "--source_path",
            str(FLAGS_MODULE),
            "--report_path",
            str(tmp_path),
            "--lint",
            "--no_report",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Linting passed without errors" in result.output
    source = FLAGS_MODULE.read_text()
    for flag in (EVENT_DELIVERY, SHADOW_COMPARE):
        assert f".. toggle_name: {flag.name}" in source
    assert source.count(".. toggle_use_cases: temporary") == 2
    assert source.count(".. toggle_target_removal_date: ") == 2
