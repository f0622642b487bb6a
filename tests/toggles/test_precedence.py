"""Which layer decides a course flag: course override, org override, percentage, then the global flag."""

from __future__ import annotations

import pytest
from opaque_keys.edx.keys import CourseKey
from waffle.testutils import override_flag

from toggles import api
from toggles.data import FlagDecision

COURSE = "course-v1:edX+Physics+2026"
OTHER_EDX_COURSE = "course-v1:edX+Chemistry+2026"
MITX_COURSE = "course-v1:MITx+6.00x+2026"

pytestmark = pytest.mark.django_db

WHO = {"changed_by": "ops-alice", "reason": "pilot"}


def test_without_any_setting_the_flag_is_off_by_the_global_default(pilot):
    assert pilot.evaluate(COURSE) == FlagDecision(False, "global", "global default")
    assert pilot.is_enabled(COURSE) is False


def test_waffle_everyone_yes_turns_the_global_layer_on(pilot):
    with override_flag(pilot.name, active=True):
        assert pilot.evaluate(COURSE) == FlagDecision(True, "global", "global default (on for everyone)")


def test_org_override_beats_the_global_layer(pilot):
    with override_flag(pilot.name, active=True):
        api.set_org_override(pilot, "edX", "off", **WHO)
        decision = pilot.evaluate(COURSE)
    assert (decision.enabled, decision.source) == (False, "org")
    assert pilot.evaluate(MITX_COURSE).source == "global"


def test_course_override_beats_the_org_override(pilot):
    api.set_org_override(pilot, "edX", "on", changed_by="ops-bob", reason="whole org")
    api.set_course_override(pilot, COURSE, "off", changed_by="ops-alice", reason="grader not ready")
    assert pilot.evaluate(COURSE).enabled is False
    assert pilot.evaluate(COURSE).source == "course"
    other = pilot.evaluate(OTHER_EDX_COURSE)
    assert (other.enabled, other.source) == (True, "org")
    assert other.reason.startswith("org override by ops-bob ")


def test_override_beats_the_percentage_both_ways(pilot):
    api.set_percentage(pilot, 100, **WHO)
    api.set_course_override(pilot, COURSE, "off", **WHO)
    assert pilot.evaluate(COURSE).enabled is False
    assert pilot.evaluate(OTHER_EDX_COURSE) == FlagDecision(True, "percentage", "in the 100% bucket")


def test_percentage_lets_in_exactly_the_courses_whose_bucket_is_below_it(pilot):
    courses = [f"course-v1:Org{i % 7}+C{i}+2026" for i in range(300)]
    api.set_percentage(pilot, "37.5", **WHO)
    for course in courses:
        decision = pilot.evaluate(course)
        assert decision.enabled is (pilot.bucket(course) < 3750)
        assert decision.source == ("percentage" if decision.enabled else "global")
        expected = "in the 37.5% bucket" if decision.enabled else "global default (outside the 37.5% bucket)"
        assert decision.reason == expected


def test_a_course_outside_the_bucket_still_gets_everyone_yes(pilot):
    api.set_percentage(pilot, 1, **WHO)
    outside = next(f"course-v1:X+C{i}+1" for i in range(1000) if pilot.bucket(f"course-v1:X+C{i}+1") >= 100)
    with override_flag(pilot.name, active=True):
        assert pilot.evaluate(outside) == FlagDecision(True, "global", "global default (on for everyone)")


def test_unset_gives_the_decision_back_to_the_next_layer(pilot):
    api.set_org_override(pilot, "edX", "on", **WHO)
    api.set_course_override(pilot, COURSE, "off", **WHO)
    api.set_course_override(pilot, COURSE, "unset", changed_by="ops-alice", reason="pilot over")
    assert pilot.evaluate(COURSE).source == "org"
    api.set_org_override(pilot, "edX", "unset", changed_by="ops-alice", reason="org done")
    assert pilot.evaluate(COURSE) == FlagDecision(False, "global", "global default")


def test_the_latest_row_wins(pilot):
    for value, reason in (("on", "first try"), ("off", "rolled back"), ("on", "second try")):
        api.set_course_override(pilot, COURSE, value, changed_by="ops-alice", reason=reason)
    decision = pilot.evaluate(COURSE)
    assert decision.enabled is True
    assert decision.reason.endswith(": second try")


def test_reason_names_who_when_and_why(pilot):
    row = api.set_course_override(pilot, COURSE, "on", **WHO)
    day = row.changed_at.date().isoformat()
    assert pilot.evaluate(COURSE).reason == f"course override by ops-alice {day}: pilot"


def test_a_course_key_object_and_its_string_get_the_same_decision(pilot):
    api.set_course_override(pilot, COURSE, "on", **WHO)
    assert pilot.evaluate(CourseKey.from_string(COURSE)) == pilot.evaluate(COURSE)


def test_flags_are_independent(pilot):
    from xqueue_bridge.flags import EVENT_DELIVERY

    api.set_course_override(pilot, COURSE, "on", **WHO)
    assert EVENT_DELIVERY.evaluate(COURSE).enabled is False


def test_org_view_names_the_percentage(pilot):
    api.set_percentage(pilot, 20, **WHO)
    decision = pilot.evaluate_org("edX")
    assert decision == FlagDecision(False, "global", "global default; on for the courses in the 20% bucket")
    api.set_org_override(pilot, "edX", "on", **WHO)
    assert pilot.evaluate_org("edX").source == "org"
