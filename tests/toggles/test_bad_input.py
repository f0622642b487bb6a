"""Bad input is refused with a clear message, and nothing is written."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from toggles import api
from toggles.exceptions import (
    InvalidChangedBy,
    InvalidCourseKey,
    InvalidOrg,
    InvalidOverrideValue,
    InvalidPercentage,
    InvalidReason,
    MissingReason,
    UnknownFlag,
)
from toggles.models import CourseOverride, OrgOverride, Percentage
from xqueue_bridge.errors import UnknownStage
from xqueue_bridge.flags import EVENT_DELIVERY
from xqueue_bridge.stage import rollout
from xqueue_bridge.stage.decide import decide_stage

COURSE = "course-v1:edX+Physics+2026"
WHO = {"reason": "pilot", "changed_by": "ops-alice"}

pytestmark = pytest.mark.django_db


@pytest.fixture
def nothing_written():
    yield
    assert (CourseOverride.objects.count(), OrgOverride.objects.count(), Percentage.objects.count()) == (
        0,
        0,
        0,
    )


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: rollout.set_stage("course-v1:edX+Physics", "event", **WHO),
            InvalidCourseKey,
            "not a course key",
        ),
        (
            lambda: rollout.set_stage("course-v1:edX Physics+2026+1", "event", **WHO),
            InvalidCourseKey,
            "expected",
        ),
        (lambda: rollout.set_stage("ed X", "event", **WHO), InvalidOrg, "not an organisation name"),
        (lambda: rollout.set_stage("", "event", **WHO), InvalidOrg, "expected the org part"),
        (lambda: rollout.set_stage("edX", "events", **WHO), UnknownStage, "expected one of callback"),
        (lambda: rollout.set_stage("edX", "", **WHO), UnknownStage, "Unknown stage"),
        (
            lambda: rollout.set_stage(COURSE, "event", reason="", changed_by="a"),
            MissingReason,
            "reason is required",
        ),
        (lambda: rollout.set_stage(COURSE, "event", reason="  ", changed_by="a"), MissingReason, "say why"),
        (lambda: rollout.set_stage(COURSE, "event", reason=None, changed_by="a"), MissingReason, "required"),
        (lambda: rollout.set_stage(COURSE, "event", reason="r" * 256, changed_by="a"), InvalidReason, "255"),
        (lambda: rollout.set_stage(COURSE, "event", reason="why", changed_by=""), InvalidChangedBy, "who"),
        (lambda: rollout.unset("course-v1:bad", **WHO), InvalidCourseKey, "not a course key"),
        (lambda: rollout.unset(COURSE, reason="", changed_by="a"), MissingReason, "reason"),
        (lambda: rollout.set_percentage("event_delivery", 101, **WHO), InvalidPercentage, "from 0 to 100"),
        (lambda: rollout.set_percentage("event_delivery", -1, **WHO), InvalidPercentage, "out of range"),
        (lambda: rollout.set_percentage("event_delivery", "lots", **WHO), InvalidPercentage, "not a number"),
        (lambda: rollout.set_percentage("event_delivery", "nan", **WHO), InvalidPercentage, "out of range"),
        (
            lambda: rollout.set_percentage("event_delivery", "12.345", **WHO),
            InvalidPercentage,
            "two decimals",
        ),
        (lambda: rollout.set_percentage("event_delivery", True, **WHO), InvalidPercentage, "not a number"),
        (lambda: rollout.set_percentage("event_delivery", None, **WHO), InvalidPercentage, "not a number"),
        (
            lambda: rollout.set_percentage("event_delivery", 20, reason="", changed_by="a"),
            MissingReason,
            "reason",
        ),
        (lambda: rollout.set_percentage("events", 20, **WHO), UnknownFlag, "known course flags"),
        (lambda: api.set_course_override("no.such_flag", COURSE, "on", **WHO), UnknownFlag, "No course flag"),
        (
            lambda: api.set_course_override(EVENT_DELIVERY, COURSE, "yes", **WHO),
            InvalidOverrideValue,
            "on, off",
        ),
        (lambda: api.set_org_override(EVENT_DELIVERY, "ed+X", "on", **WHO), InvalidOrg, "organisation"),
        (
            lambda: CourseOverride.objects.create(
                flag_name=EVENT_DELIVERY.name, course_id="x", value="on", **WHO
            ),
            InvalidCourseKey,
            "course key",
        ),
        (
            lambda: CourseOverride.objects.bulk_create(
                [
                    CourseOverride(
                        flag_name=EVENT_DELIVERY.name, course_id=COURSE, value="on", reason="", changed_by="a"
                    )
                ]
            ),
            MissingReason,
            "reason",
        ),
        (
            lambda: Percentage.objects.create(flag_name=EVENT_DELIVERY.name, percent=250, **WHO),
            InvalidPercentage,
            "out of range",
        ),
    ],
)
def test_bad_input_raises_a_named_error_and_writes_nothing(call, error, message, nothing_written):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("bad", ["course-v1:edX+Physics", "not a key", 42, None])
def test_deciding_a_bad_course_key_says_what_is_expected(bad):
    with pytest.raises(InvalidCourseKey, match="course key"):
        decide_stage(bad)
    with pytest.raises(InvalidCourseKey):
        EVENT_DELIVERY.evaluate(bad)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set", "course-v1:edX+Physics", "event", "--reason", "r"], "not a course key"),
        (["set", "ed X", "event", "--reason", "r"], "not an organisation name"),
        (["set", "edX", "eventually", "--reason", "r"], "Unknown stage 'eventually'"),
        (["set", "edX", "event", "--reason", " "], "A reason is required"),
        (["unset", "edX", "--reason", ""], "A reason is required"),
        (["percentage", "event_delivery", "100.5", "--reason", "r"], "out of range"),
        (["percentage", "event_delivery", "-3", "--reason", "r"], "out of range"),
        (["percentage", "nope", "10", "--reason", "r"], "No course flag is named 'nope'"),
        (["show", "course-v1:x"], "not a course key"),
        (["history", "course-v1:x"], "not a course key"),
    ],
)
def test_the_command_refuses_bad_input_with_the_message(args, message, nothing_written):
    with pytest.raises(CommandError, match=message):
        call_command("rollout", *args, stdout=StringIO())


def test_the_command_requires_a_reason(nothing_written):
    with pytest.raises(CommandError, match="--reason"):
        call_command("rollout", "set", "edX", "event", stdout=StringIO())
