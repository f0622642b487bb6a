"""Every change is a row with who, when and why; rows are never edited or deleted; the latest wins."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from toggles import api
from toggles.exceptions import AppendOnly
from toggles.models import CourseOverride, OrgOverride, Percentage
from xqueue_bridge.flags import EVENT_DELIVERY, SHADOW_COMPARE
from xqueue_bridge.stage import rollout

COURSE = "course-v1:edX+Physics+2026"

pytestmark = pytest.mark.django_db


def test_each_change_adds_rows_and_keeps_the_old_ones():
    rollout.set_stage(COURSE, "shadow_callback", reason="pilot", changed_by="ops-alice", force=True, allow_unseen=True)
    rollout.set_stage(COURSE, "shadow_event", reason="looks good", changed_by="ops-bob", force=True, allow_unseen=True)
    rollout.unset(COURSE, reason="pilot over", changed_by="ops-alice", force=True, allow_unseen=True)
    rows = list(CourseOverride.objects.filter(course_id=COURSE).order_by("id"))
    assert [(row.flag_name, row.value, row.changed_by, row.reason) for row in rows] == [
        (EVENT_DELIVERY.name, "off", "ops-alice", "pilot"),
        (SHADOW_COMPARE.name, "on", "ops-alice", "pilot"),
        (EVENT_DELIVERY.name, "on", "ops-bob", "looks good"),
        (SHADOW_COMPARE.name, "on", "ops-bob", "looks good"),
        (EVENT_DELIVERY.name, "unset", "ops-alice", "pilot over"),
        (SHADOW_COMPARE.name, "unset", "ops-alice", "pilot over"),
    ]
    assert rows[0].changed_at == rows[1].changed_at  # one stage, one change


def test_history_reads_as_stages_newest_first():
    rollout.set_stage("edX", "shadow_callback", reason="whole org", changed_by="ops-bob", force=True, allow_unseen=True)
    rollout.set_stage(COURSE, "event", reason="early adopter", changed_by="ops-alice", force=True, allow_unseen=True)
    rollout.set_percentage("event_delivery", 20, reason="ramp", changed_by="ops-carol", force=True)
    rollout.unset(COURSE, reason="back to the org", changed_by="ops-alice", force=True, allow_unseen=True)

    changes = rollout.history()
    assert [(c.scope, c.target, c.change, c.changed_by, c.reason) for c in changes] == [
        ("course", COURSE, "unset", "ops-alice", "back to the org"),
        ("percentage", "", "event_delivery 20%", "ops-carol", "ramp"),
        ("course", COURSE, "stage event", "ops-alice", "early adopter"),
        ("org", "edX", "stage shadow_callback", "ops-bob", "whole org"),
    ]
    of_course = rollout.history(course=COURSE)
    assert [c.change for c in of_course] == ["unset", "stage event", "stage shadow_callback"]
    assert [c.change for c in rollout.history(org="edX")] == ["stage shadow_callback"]
    assert [c.change for c in rollout.history(org="MITx")] == []
    assert len(rollout.history(limit=2)) == 2


def test_single_flag_changes_are_named_by_flag():
    api.set_course_override(EVENT_DELIVERY, COURSE, "on", reason="just events", changed_by="ops-alice")
    assert [c.change for c in rollout.history(course=COURSE)] == ["event_delivery on"]


def test_toggles_history_lists_rows_of_every_table():
    earlier = timezone.now() - datetime.timedelta(minutes=5)
    api.set_org_override(EVENT_DELIVERY, "edX", "on", reason="org", changed_by="a", changed_at=earlier)
    api.set_course_override(EVENT_DELIVERY, COURSE, "off", reason="course", changed_by="b")
    api.set_percentage(EVENT_DELIVERY, "12.5", reason="ramp", changed_by="c")
    entries = api.history(flag=EVENT_DELIVERY)
    assert [(e.scope, e.target, e.value) for e in entries] == [
        ("percentage", "", "12.5%"),
        ("course", COURSE, "off"),
        ("org", "edX", "on"),
    ]
    assert [e.scope for e in api.history(course=COURSE)] == ["course", "org"]


def test_rows_cannot_be_edited_or_deleted():
    rollout.set_stage(COURSE, "event", reason="pilot", changed_by="ops-alice", force=True, allow_unseen=True)
    row = CourseOverride.objects.first()
    row.value = "off"
    with pytest.raises(AppendOnly, match="never edited"):
        row.save()
    with pytest.raises(AppendOnly, match="never deleted"):
        row.delete()
    with pytest.raises(AppendOnly):
        CourseOverride.objects.filter(course_id=COURSE).delete()
    with pytest.raises(AppendOnly):
        CourseOverride.objects.update(value="off")
    with pytest.raises(AppendOnly):
        OrgOverride.objects.all().delete()
    with pytest.raises(AppendOnly):
        Percentage.objects.bulk_update([], ["percent"])
    assert list(CourseOverride.objects.values_list("value", flat=True).order_by("id")) == ["on", "off"]


def test_the_account_that_made_a_change_is_kept_and_its_name_outlives_it():
    user = get_user_model().objects.create_user("ops-dave")
    rollout.set_stage(COURSE, "event", reason="pilot", changed_by="ops-dave", user=user, force=True, allow_unseen=True)
    assert {row.changed_by_user_id for row in CourseOverride.objects.all()} == {user.pk}
    user.delete()
    rows = CourseOverride.objects.all()
    assert {(row.changed_by, row.changed_by_user_id) for row in rows} == {("ops-dave", None)}
    assert rollout.stage_of(COURSE).reason.startswith("course override by ops-dave ")


def test_bulk_created_rows_are_checked_and_take_effect():
    CourseOverride.objects.bulk_create(
        CourseOverride(
            flag_name=EVENT_DELIVERY.name,
            course_id=f"course-v1:Bulk+C{i}+1",
            value="on",
            changed_by="loader",
            reason="import",
        )
        for i in range(20)
    )
    assert all(EVENT_DELIVERY.is_enabled(f"course-v1:Bulk+C{i}+1") for i in range(20))


def test_known_courses_are_those_with_overrides_or_submissions():
    from xqueue_bridge.models import Submission

    rollout.set_stage(COURSE, "event", reason="pilot", changed_by="ops-alice", force=True, allow_unseen=True)
    rollout.set_stage("MITx", "event", reason="org", changed_by="ops-alice", force=True, allow_unseen=True)
    Submission.objects.create(
        queue_name="test-pull",
        xqueue_header="{}",
        xqueue_body="{}",
        lms_callback_url="http://127.0.0.1/cb",
        callback_digest="0" * 64,
        lms_key="k",
        course_id="course-v1:MITx+6.00x+2026",
        usage_key="block-v1:MITx+6.00x+2026+type@problem+block@p1",
        user_id="1",
        stage="event",
        stage_reason="org override",
    )
    assert rollout.known_courses() == sorted([COURSE, "course-v1:MITx+6.00x+2026"])
