"""What ``toggles.api`` tells about a flag besides a decision: its global layer, its courses, a summary."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from waffle.testutils import override_flag

from toggles import api
from xqueue_bridge.flags import EVENT_DELIVERY, SHADOW_COMPARE

ROOT = Path(__file__).resolve().parents[2]
WHO = {"reason": "pilot", "changed_by": "ops-alice"}

pytestmark = pytest.mark.django_db


def test_on_for_everyone_reads_the_waffle_flag_now():
    assert api.on_for_everyone(SHADOW_COMPARE) is False
    with override_flag(SHADOW_COMPARE.name, active=True):
        assert api.on_for_everyone(SHADOW_COMPARE.name) is True
    assert api.on_for_everyone(SHADOW_COMPARE) is False


def test_overridden_courses_are_every_course_with_a_row_of_the_flags():
    api.set_course_override(EVENT_DELIVERY, "course-v1:edX+A+1", "on", **WHO)
    api.set_course_override(SHADOW_COMPARE, "course-v1:edX+B+1", "unset", **WHO)
    api.set_org_override(EVENT_DELIVERY, "MITx", "on", **WHO)
    assert api.overridden_courses([EVENT_DELIVERY]) == {"course-v1:edX+A+1"}
    assert api.overridden_courses([EVENT_DELIVERY.name, SHADOW_COMPARE]) == {
        "course-v1:edX+A+1",
        "course-v1:edX+B+1",
    }


def test_summary_counts_the_overrides_in_effect_and_names_the_percentage():
    api.set_course_override(EVENT_DELIVERY, "course-v1:edX+A+1", "on", **WHO)
    api.set_course_override(EVENT_DELIVERY, "course-v1:edX+B+1", "off", **WHO)
    api.set_course_override(EVENT_DELIVERY, "course-v1:edX+C+1", "on", **WHO)
    api.set_course_override(EVENT_DELIVERY, "course-v1:edX+C+1", "unset", **WHO)
    api.set_org_override(EVENT_DELIVERY, "MITx", "off", **WHO)
    api.set_percentage(EVENT_DELIVERY, "12.5", **WHO)
    assert api.summary(EVENT_DELIVERY) == api.FlagSummary(
        flag=EVENT_DELIVERY.name,
        percent=Decimal("12.50"),
        global_default=False,
        courses_on=1,
        courses_off=1,
        orgs_on=0,
        orgs_off=1,
    )
    assert api.summary(SHADOW_COMPARE.name).percent is None


def test_course_flags_can_be_defined_before_django_is_set_up_and_read_after():
    # A flags module may be imported before the app registry is ready (as edx-toggles' flags can be);
    # reading a flag then says what is missing.
    code = (
        "from toggles.flags import CourseFlag\n"
        "import xqueue_bridge.flags\n"
        "flag = CourseFlag('tests.early', __name__)\n"
        "try:\n"
        "    flag.evaluate('course-v1:edX+A+1')\n"
        "except Exception as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ImproperlyConfigured Course flags are read once Django is set up")
