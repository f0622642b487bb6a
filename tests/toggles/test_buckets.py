"""Percentages pick courses by a stable hash: the same everywhere, and nobody leaves as they grow."""

from __future__ import annotations

from decimal import Decimal

import pytest

from toggles import api
from toggles.buckets import BUCKETS, bucket, threshold

COURSES = [f"course-v1:Org{i % 13}+Course{i}+Run{i % 3}" for i in range(2000)]
WHO = {"changed_by": "ops-alice", "reason": "ramp up"}


def test_a_bucket_never_changes():
    # Pinned values: a different hash would move courses between stages on upgrade.
    assert bucket("xqueue_bridge.event_delivery", "course-v1:edX+DemoX+2026") == 2083
    assert bucket("xqueue_bridge.shadow_compare", "course-v1:edX+DemoX+2026") == 7281
    assert bucket("xqueue_bridge.stage", "course-v1:edX+DemoX+2026") == 3653


def test_the_bridge_flags_share_one_order_of_courses():
    from xqueue_bridge.flags import EVENT_DELIVERY, SHADOW_COMPARE

    for course in COURSES[:200]:
        assert EVENT_DELIVERY.bucket(course) == SHADOW_COMPARE.bucket(course) == bucket("xqueue_bridge.stage", course)


def test_buckets_depend_on_the_flag_and_spread_evenly():
    first = [bucket("flag.one", course) for course in COURSES]
    second = [bucket("flag.two", course) for course in COURSES]
    assert first != second
    assert all(0 <= value < BUCKETS for value in first)
    # Each tenth of the range holds about a tenth of the courses (the hash values are fixed, so is this).
    tenths = [sum(1 for value in first if value * 10 // BUCKETS == tenth) for tenth in range(10)]
    assert all(150 <= count <= 250 for count in tenths), tenths


def test_threshold_is_a_hundredth_of_a_percent_per_bucket():
    assert threshold(Decimal("0")) == 0
    assert threshold(Decimal("0.01")) == 1
    assert threshold(Decimal("20")) == 2000
    assert threshold(Decimal("100")) == BUCKETS


@pytest.mark.slow
@pytest.mark.django_db
def test_no_course_leaves_the_rollout_as_the_percentage_grows(pilot):
    previous: set[str] = set()
    for percent in ("0", "0.5", "1", "5", "10", "12.5", "20", "33.33", "50", "75", "99.99", "100"):
        api.set_percentage(pilot, percent, **WHO)
        enabled = {course for course in COURSES if pilot.is_enabled(course)}
        assert previous <= enabled, f"courses left at {percent}%: {sorted(previous - enabled)[:5]}"
        expected = len(COURSES) * float(percent) / 100
        assert abs(len(enabled) - expected) <= max(40, expected * 0.15), (percent, len(enabled))
        previous = enabled
    assert previous == set(COURSES)


@pytest.mark.django_db
def test_zero_percent_turns_the_layer_off(pilot):
    api.set_percentage(pilot, 50, **WHO)
    api.set_percentage(pilot, 0, **WHO)
    assert {pilot.evaluate(course).source for course in COURSES[:200]} == {"global"}
    assert pilot.evaluate(COURSES[0]).reason == "global default"
