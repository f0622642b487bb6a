"""A course's stage is the combination of its two flags, recorded with a readable reason."""

from __future__ import annotations

import pytest
from waffle.testutils import override_flag

from toggles import api
from toggles.data import FlagDecision
from xqueue_bridge.data import StageDecision
from xqueue_bridge.flags import EVENT_DELIVERY, SHADOW_COMPARE
from xqueue_bridge.models import Stage, Submission
from xqueue_bridge.stage import rollout
from xqueue_bridge.stage.decide import combined_reason, decide_stage, stage_decision

COURSE = "course-v1:edX+Physics+2026"

pytestmark = pytest.mark.django_db


def test_a_course_nobody_moved_is_on_the_callback_path():
    assert decide_stage(COURSE) == StageDecision(stage="callback", reason="global default")


@pytest.mark.parametrize(
    ("stage", "event", "shadow"),
    [
        ("callback", False, False),
        ("shadow_callback", False, True),
        ("shadow_event", True, True),
        ("event", True, False),
    ],
)
def test_set_stage_writes_both_flags_and_reads_back_the_same_stage(stage, event, shadow):
    rollout.set_stage(COURSE, stage, reason="pilot", changed_by="ops-alice", force=True, allow_unseen=True)
    assert EVENT_DELIVERY.is_enabled(COURSE) is event
    assert SHADOW_COMPARE.is_enabled(COURSE) is shadow
    decision = decide_stage(COURSE)
    assert decision.stage == stage == Stage(stage).value
    day = decision.reason.split(" ")[4].rstrip(":")
    assert decision.reason == f"course override by ops-alice {day}: pilot"


def test_a_course_moves_through_every_stage_and_back():
    seen = []
    for stage in ("shadow_callback", "shadow_event", "event", "shadow_event", "callback"):
        rollout.set_stage(COURSE, stage, reason=f"to {stage}", changed_by="ops-alice", force=True, allow_unseen=True)
        seen.append(decide_stage(COURSE).stage)
    assert seen == ["shadow_callback", "shadow_event", "event", "shadow_event", "callback"]


def test_org_stage_applies_to_its_courses_without_their_own():
    rollout.set_stage("edX", "shadow_callback", reason="whole org", changed_by="ops-bob", force=True, allow_unseen=True)
    rollout.set_stage(COURSE, "event", reason="early adopter", changed_by="ops-alice", force=True, allow_unseen=True)
    assert decide_stage("course-v1:edX+Chemistry+2026").stage == "shadow_callback"
    assert "org override by ops-bob" in decide_stage("course-v1:edX+Chemistry+2026").reason
    assert decide_stage(COURSE).stage == "event"
    assert decide_stage("course-v1:MITx+6.00x+2026").stage == "callback"
    assert rollout.stage_of_org("edX").stage == "shadow_callback"


def test_unset_returns_a_course_to_its_org_stage():
    rollout.set_stage("edX", "shadow_event", reason="whole org", changed_by="ops-bob", force=True, allow_unseen=True)
    rollout.set_stage(COURSE, "callback", reason="hold back", changed_by="ops-alice", force=True, allow_unseen=True)
    rollout.unset(COURSE, reason="ready", changed_by="ops-alice", force=True, allow_unseen=True)
    assert decide_stage(COURSE).stage == "shadow_event"


def test_reasons_of_different_layers_name_each_flag():
    api.set_percentage(EVENT_DELIVERY, 100, reason="everyone", changed_by="ops-alice")
    decision = decide_stage(COURSE)
    assert decision == StageDecision(
        stage="event", reason="event delivery on: in the 100% bucket; shadow compare off: global default"
    )


def test_percentage_of_one_flag_moves_courses_between_two_stages():
    rollout.set_percentage("shadow_compare", 100, reason="shadow everything", changed_by="ops-alice", force=True)
    rollout.set_percentage("event_delivery", 30, reason="first third", changed_by="ops-alice", force=True)
    courses = [f"course-v1:Org+C{i}+1" for i in range(200)]
    stages = {decide_stage(course).stage for course in courses}
    assert stages == {"shadow_callback", "shadow_event"}
    for course in courses:
        assert (decide_stage(course).stage == "shadow_event") is (EVENT_DELIVERY.bucket(course) < 3000)


def test_percentages_raised_in_order_take_every_course_through_every_stage_in_order():
    """shadow_compare up, event_delivery up to it, shadow_compare down: no course skips a stage."""
    courses = [f"course-v1:Org{i % 7}+C{i}+1" for i in range(300)]
    order = ["callback", "shadow_callback", "shadow_event", "event"]
    seen = {course: ["callback"] for course in courses}
    steps = [("shadow_compare", p) for p in (10, 40, 100)]
    steps += [("event_delivery", p) for p in (5, 40, 100)]
    steps += [("shadow_compare", p) for p in (60, 20, 0)]
    for flag, percent in steps:
        assert rollout.set_percentage(flag, percent, reason="ramp", changed_by="ops-alice", force=True) == ""
        for course in courses:
            stage = decide_stage(course).stage
            if stage != seen[course][-1]:
                seen[course].append(stage)
    assert all(stages == order for stages in seen.values()), [s for s in seen.values() if s != order][:3]


def test_event_delivery_raised_above_shadow_compare_warns_of_the_courses_that_skip_shadow():
    rollout.set_percentage("shadow_compare", 10, reason="pilot", changed_by="ops-alice", force=True)
    warning = rollout.set_percentage("event_delivery", 30, reason="too fast", changed_by="ops-alice", force=True)
    assert "event_delivery (30%) is now above shadow_compare (10%)" in warning
    assert "between 10% and 30%" in warning
    skipped = [f"course-v1:X+C{i}+1" for i in range(300) if 1000 <= EVENT_DELIVERY.bucket(f"course-v1:X+C{i}+1") < 3000]
    assert skipped and {decide_stage(course).stage for course in skipped} == {"event"}
    # Lowering it again, or lowering shadow_compare below it (the last step of a rollout), warns of nothing.
    assert rollout.set_percentage("event_delivery", 10, reason="back", changed_by="ops-alice", force=True) == ""
    assert rollout.set_percentage("event_delivery", 100, reason="oops", changed_by="ops-alice", force=True) != ""
    assert rollout.set_percentage("shadow_compare", 0, reason="done", changed_by="ops-alice", force=True) == ""


def test_no_warning_when_shadow_compare_is_on_for_everyone():
    with override_flag(SHADOW_COMPARE.name, active=True):  # waffle's Everyone: no course skips shadow
        assert rollout.set_percentage("event_delivery", 50, reason="ramp", changed_by="ops-alice", force=True) == ""
        assert decide_stage(COURSE).stage in ("shadow_callback", "shadow_event")


def test_a_reason_never_exceeds_the_submission_column():
    long_reason = "x" * 255
    event = FlagDecision(True, "course", "course override by ops-alice 2026-11-25: " + long_reason)
    shadow = FlagDecision(False, "org", "org override by ops-bob 2026-11-25: " + long_reason)
    combined = combined_reason(event, shadow)
    assert len(combined) <= Submission._meta.get_field("stage_reason").max_length
    assert combined.startswith("event delivery on: course override by ops-alice")
    assert "; shadow compare off: org override by ops-bob" in combined
    same = FlagDecision(True, "course", "course override by ops-alice 2026-11-25: " + long_reason)
    assert len(stage_decision(same, same).reason) == 255


def test_a_short_reason_is_kept_whole_beside_a_long_one():
    event = FlagDecision(True, "percentage", "in the 20% bucket")
    shadow = FlagDecision(True, "course", "course override by ops-alice 2026-11-25: " + "y" * 250)
    combined = combined_reason(event, shadow)
    assert len(combined) == 255
    assert "event delivery on: in the 20% bucket; shadow compare on: course override" in combined


def test_the_stage_of_a_long_override_reason_fits_the_column():
    rollout.set_stage(COURSE, "shadow_event", reason="z" * 255, changed_by="o" * 150, force=True, allow_unseen=True)
    assert len(decide_stage(COURSE).reason) <= 255
