"""
``xqueue-bridge switch-off --check``: a course walked through every stage to a green check, then each
condition that must hold before the shim goes, turning the check red and green again.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import COURSE
from tests.shadow.conftest import bridge_settings, make_submission, reply
from tests.support.commands import command
from xqueue_bridge.models import Delivery, ForcedMove
from xqueue_bridge.stage import rollout

pytestmark = pytest.mark.django_db(transaction=True)

FAST = {"MIN_COMPARISONS": 2, "MIN_HOURS": 0.0, "MAX_MISMATCH_RATE": 0.0, "MAX_ERROR_RATE": 0.0}


def switch_off() -> tuple[int, str, str]:
    return command("switch_off", "--check")


def move(stage: str) -> None:
    code, _, message = command("rollout", "set", COURSE, stage, "--reason", f"to {stage}", "--by", "ops-alice")
    assert code == 0, message


def test_a_course_walked_through_every_stage_ends_in_a_green_check_with_the_steps(grade):
    with bridge_settings(READINESS=FAST):
        code, out, _ = switch_off()
        assert code == 0  # an empty bridge: nothing stands in the way
        grade(reply(score=1.0))  # the course is seen in callback
        code, out, message = switch_off()
        assert code == 1 and "Not yet" in message
        assert f"courses with submissions in the last 30 days not in event: 1\n    {COURSE} (callback)" in out

        for stage in ("shadow_callback", "shadow_event", "event"):
            move(stage)
            if stage != "event":
                grade(reply(score=0.5))  # partial credit: the same for the learner on both paths
                grade(reply(score=1.0))
        grade(reply(score=1.0))
        code, out, message = switch_off()

    assert code == 0, out + message
    assert "NOT CLEAR" not in out
    assert "1. In the LMS, turn on send_to_submission_course.enable" in out
    assert "flag xqueue_bridge.event_delivery: target removal date 2027-12-31" in out
    assert not ForcedMove.objects.exists()


def test_each_remaining_condition_turns_the_check_red_until_it_is_gone():
    rollout.set_stage(COURSE, "event", reason="done", changed_by="ops-alice", force=True, allow_unseen=True)
    ForcedMove.objects.all().delete()  # the setup's own forced move
    assert switch_off()[0] == 0

    live = make_submission(course_id=COURSE, stage="shadow_event", status="queued")
    code, out, _ = switch_off()
    assert code == 1 and f"live submissions decided in an older stage (their results still take that path): 1\n" \
        f"    submission {live.pk} of {COURSE} (shadow_event)" in out
    live.delete()

    graded = make_submission(course_id=COURSE, stage="event")
    delivery = Delivery.objects.create(submission=graded, path="event", body=reply(), attempts=2)
    code, out, _ = switch_off()
    assert code == 1 and "deliveries pending or retrying: 1" in out
    Delivery.objects.filter(pk=delivery.pk).update(status="dead")
    code, out, _ = switch_off()
    assert code == 1 and "dead deliveries waiting for replay: 1" in out and "xqueue-bridge replay" in out
    Delivery.objects.filter(pk=delivery.pk).update(status="delivered")
    assert switch_off()[0] == 0

    with bridge_settings(shadow={"IGNORE_RULES": ["points_rounding"]}):
        code, out, _ = switch_off()
    assert code == 1 and "ignore rules in force (differences accepted instead of looked at): 1" in out

    rollout.set_stage(COURSE, "callback", reason="back", changed_by="ops-alice")
    rollout.set_stage(COURSE, "event", reason="term starts", changed_by="ops-bob", force=True)
    code, out, _ = switch_off()
    assert code == 1 and "forced moves not cleared: 1" in out
    [forced] = json.loads(command("rollout", "forced", "--format", "json")[1])
    assert command("rollout", "clear-forced", str(forced["id"]), "--reason", "looked at", "--by", "ops-bob")[0] == 0

    code, out, _ = switch_off()
    assert code == 0 and "To remove the shim" in out
    code, out, _ = command("switch_off", "--check", "--format", "json")
    assert json.loads(out)["clear"] is True
