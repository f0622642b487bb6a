"""``override_course_flag`` forces a decision for tests, by course, org or everywhere, and restores it."""

from __future__ import annotations

import pytest

from toggles import api
from toggles.data import FlagDecision
from toggles.testutils import override_course_flag
from xqueue_bridge.flags import EVENT_DELIVERY, SHADOW_COMPARE
from xqueue_bridge.stage.decide import decide_stage

COURSE = "course-v1:edX+Physics+2026"
OTHER = "course-v1:MITx+6.00x+2026"


@pytest.mark.django_db
def test_forcing_a_course_an_org_or_everything():
    with override_course_flag(EVENT_DELIVERY, active=True, course=COURSE):
        assert EVENT_DELIVERY.evaluate(COURSE) == FlagDecision(
            True, "course", "forced by override_course_flag"
        )
        assert EVENT_DELIVERY.is_enabled(OTHER) is False
    with override_course_flag(EVENT_DELIVERY, active=True, org="MITx"):
        assert EVENT_DELIVERY.is_enabled(OTHER) is True
        assert EVENT_DELIVERY.evaluate_org("MITx").source == "org"
        assert EVENT_DELIVERY.is_enabled(COURSE) is False
    with override_course_flag("xqueue_bridge.event_delivery", active=True):
        assert EVENT_DELIVERY.is_enabled(COURSE) and EVENT_DELIVERY.is_enabled(OTHER)
    assert EVENT_DELIVERY.evaluate(COURSE).source == "global"


@pytest.mark.django_db
def test_forced_decisions_win_over_stored_ones_and_nest():
    api.set_course_override(EVENT_DELIVERY, COURSE, "on", reason="pilot", changed_by="ops-alice")
    with override_course_flag(EVENT_DELIVERY, active=False):
        assert EVENT_DELIVERY.is_enabled(COURSE) is False  # a forced decision beats the stored override
        with override_course_flag(EVENT_DELIVERY, active=True, course=COURSE):
            assert EVENT_DELIVERY.is_enabled(COURSE) is True  # a forced course beats a forced flag
            with override_course_flag(EVENT_DELIVERY, active=False, course=COURSE):
                assert EVENT_DELIVERY.is_enabled(COURSE) is False
            assert EVENT_DELIVERY.is_enabled(COURSE) is True
        assert EVENT_DELIVERY.is_enabled(COURSE) is False
    assert EVENT_DELIVERY.evaluate(COURSE).source == "course"
    assert EVENT_DELIVERY.evaluate(COURSE).reason.endswith(": pilot")


@override_course_flag(EVENT_DELIVERY, active=True)
@override_course_flag(SHADOW_COMPARE, active=True)
@pytest.mark.django_db
def test_as_a_decorator_forced_flags_need_no_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert decide_stage(COURSE).stage == "shadow_event"


def test_a_course_and_an_org_at_once_is_a_mistake():
    with pytest.raises(TypeError, match="not both"):
        override_course_flag(EVENT_DELIVERY, active=True, course=COURSE, org="edX")
