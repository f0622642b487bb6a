"""
Guarded stage moves: forward only past shadow stages a course has passed, unless forced (and recorded);
back always; an unseen course key only with --allow-unseen; the same in the API, the command and the admin.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.shadow.conftest import bridge_settings, make_comparison, make_submission
from tests.support.commands import command
from toggles.models import CourseOverride
from xqueue_bridge.errors import StageMoveRefused
from xqueue_bridge.flags import EVENT_DELIVERY, SHADOW_COMPARE
from xqueue_bridge.models import ForcedMove
from xqueue_bridge.stage import rollout

pytestmark = pytest.mark.django_db(transaction=True)

PILOT = "course-v1:GuardX+Pilot+2026"
PROVEN = "course-v1:GuardX+Proven+2026"
LEGACY = "course-v1:GuardX+Legacy+2026"
TYPO = "course-v1:GuardX+Pilott+2026"
THRESHOLDS = {"MIN_COMPARISONS": 4, "MIN_HOURS": 1.0, "MAX_MISMATCH_RATE": 0.0, "MAX_ERROR_RATE": 0.0}
WHO = ("--reason", "next step", "--by", "ops-alice")


def in_stage(course: str, stage: str, statuses=()) -> None:
    """A course the bridge has seen, put in ``stage`` by an earlier change, with comparisons there."""
    make_submission(course_id=course, stage=stage)
    rollout.set_stage(course, stage, reason="setup", changed_by="ops-setup", force=True)
    for number, status in enumerate(statuses):
        make_comparison(course_id=course, stage=stage, status=status, hours_ago=5 - number * 0.1)


def stage(course: str) -> str:
    return rollout.stage_of(course).stage


@pytest.fixture(autouse=True)
def thresholds():
    with bridge_settings(READINESS=THRESHOLDS):
        yield


def test_skipping_from_callback_to_event_is_refused_and_changes_nothing():
    in_stage(LEGACY, "callback")

    code, _, message = command("rollout", "set", LEGACY, "event", *WHO)

    assert code == 1
    assert f"{LEGACY}: callback -> event: skips shadow_callback, where it was never compared; skips shadow_event" \
        in message
    assert "--force" in message
    assert stage(LEGACY) == "callback"


def test_leaving_a_shadow_stage_whose_readiness_is_not_met_is_refused_with_its_reasons():
    in_stage(PILOT, "shadow_callback", ["matched", "matched", "matched", "mismatched"])  # 25 % mismatches

    code, _, message = command("rollout", "set", PILOT, "shadow_event", *WHO)

    assert code == 1
    assert "readiness in shadow_callback not met: mismatch rate 25.0% is above 0.0%" in message
    assert stage(PILOT) == "shadow_callback"
    with pytest.raises(StageMoveRefused):  # the Python API refuses the same way
        rollout.set_stage(PILOT, "event", reason="skip", changed_by="ops-alice")


def test_a_ready_course_moves_forward_and_any_course_moves_back():
    in_stage(PROVEN, "shadow_callback", ["matched"] * 4)
    in_stage(PILOT, "shadow_event", ["mismatched"] * 4)

    assert command("rollout", "set", PROVEN, "shadow_event", *WHO)[0] == 0
    assert command("rollout", "set", PILOT, "callback", *WHO)[0] == 0  # back past everything: always allowed
    assert (stage(PROVEN), stage(PILOT)) == ("shadow_event", "callback")
    assert not ForcedMove.objects.filter(reason="next step").exists()


def test_force_moves_with_the_reason_and_is_recorded_in_the_history_until_cleared():
    in_stage(PILOT, "shadow_callback", ["matched"])

    code, _, err = command("rollout", "set", PILOT, "event", "--force", "--reason", "term starts", "--by", "ops-bob")

    assert code == 0 and stage(PILOT) == "event"
    assert "Forced: " + PILOT + " shadow_callback -> event past: readiness in shadow_callback not met" in err
    [latest, *_] = command_history(PILOT)
    assert (latest["change"], latest["changed_by"], latest["reason"]) == ("stage event", "ops-bob", "term starts")
    assert "1 comparisons in shadow_callback, at least 4 needed" in latest["forced"]
    assert "skips shadow_event" in latest["forced"]
    [forced] = json.loads(command("rollout", "forced", "--format", "json")[1])
    assert (forced["course_id"], forced["from_stage"], forced["to_stage"]) == (PILOT, "shadow_callback", "event")

    cleared = command("rollout", "clear-forced", str(forced["id"]), "--reason", "checked by hand", "--by", "ops-bob")
    assert cleared[0] == 0
    assert json.loads(command("rollout", "forced", "--format", "json")[1]) == []


def command_history(course: str) -> list[dict]:
    code, out, err = command("rollout", "history", course, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_an_org_move_lists_each_course_that_is_not_ready_and_refuses():
    late = "course-v1:GuardX+Late+2026"
    for course, statuses in ((PROVEN, ["matched"] * 4), (PILOT, ["matched", "errored"]), (late, [])):
        make_submission(course_id=course, stage="shadow_event")
        for number, status in enumerate(statuses):
            make_comparison(course_id=course, stage="shadow_event", status=status, hours_ago=5 - number * 0.1)
    rollout.set_stage("GuardX", "shadow_event", reason="whole org", changed_by="ops-setup", force=True)
    in_stage(LEGACY, "callback")  # its own override: the org's stage does not move it

    code, _, message = command("rollout", "set", "GuardX", "event", *WHO)

    assert code == 1
    assert "2 course(s) would move forward past a shadow stage they have not passed" in message
    assert f"{PILOT}: shadow_event -> event: readiness in shadow_event not met" in message
    assert f"{late}: shadow_event -> event: readiness in shadow_event not met: 0 comparisons" in message
    assert PROVEN + ":" not in message and LEGACY not in message
    assert {stage(course) for course in (PROVEN, PILOT, late)} == {"shadow_event"}


def test_a_percentage_move_lists_the_courses_it_would_skip_and_refuses():
    make_submission(course_id=LEGACY, stage="callback")  # decided by the percentage layers, no override

    code, _, message = command("rollout", "percentage", "event_delivery", "100", *WHO)

    assert code == 1
    assert f"{LEGACY}: callback -> event: skips shadow_callback" in message
    assert EVENT_DELIVERY.percentage() is None
    assert command("rollout", "percentage", "shadow_compare", "100", *WHO)[0] == 0  # into shadow: allowed
    assert stage(LEGACY) == "shadow_callback"


def test_an_unseen_course_key_needs_allow_unseen_and_readiness_says_no_data():
    in_stage(PILOT, "shadow_callback")

    code, _, message = command("rollout", "set", TYPO, "shadow_callback", *WHO)
    assert code == 1
    assert f"no submission of course {TYPO} has reached the bridge" in message and "--allow-unseen" in message
    assert not CourseOverride.objects.filter(course_id=TYPO).exists()

    assert command("rollout", "set", TYPO, "shadow_callback", *WHO, "--allow-unseen")[0] == 0
    code, out, _ = command("readiness", "--format", "json")
    items = {item["course_id"]: item for item in json.loads(out)["courses"]}
    assert (items[TYPO]["ready"], items[TYPO]["state"]) == (False, "no data")
    assert items[TYPO]["reasons"][0].startswith("no data: no submission of this course has reached the bridge")


def test_the_admin_override_form_obeys_the_same_guard(client):
    in_stage(LEGACY, "callback")
    user = get_user_model().objects.create_superuser("ops-admin", "ops@example.com", "pw")
    client.force_login(user)
    url = reverse("admin:toggles_courseoverride_add")
    row = {"flag_name": EVENT_DELIVERY.name, "course_id": LEGACY, "value": "on", "reason": "straight to events"}

    refused = client.post(url, row)
    assert refused.status_code == 200
    assert "skips shadow_callback, where it was never compared" in refused.content.decode()
    assert stage(LEGACY) == "callback"
    unseen = client.post(url, {**row, "flag_name": SHADOW_COMPARE.name, "course_id": TYPO, "reason": "typo"})
    assert "has reached the bridge" in unseen.content.decode()

    forced = client.post(url, {**row, "force": "on"})
    assert forced.status_code == 302
    assert stage(LEGACY) == "event"
    [move] = ForcedMove.objects.filter(course_id=LEGACY, reason="straight to events")
    assert (move.from_stage, move.to_stage, move.changed_by) == ("callback", "event", "ops-admin")
