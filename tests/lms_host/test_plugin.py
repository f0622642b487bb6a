"""
The bridge installed in an LMS-shaped host through edx-django-utils' plugin machinery only: the XQueue API
served by the host under the plugin's prefix, callbacks to the host's xqueue_callback, the event sent in
process to the host's receiver (confirmed when it returns), all four stages, shadow comparisons, a receiver
that raises then recovers, and a learner who resubmits.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.urls import reverse
from edx_django_utils.plugins import get_plugin_apps
from edx_toggles.toggles.state import ToggleStateReport

from tests.lms_host.conftest import QUEUE
from tests.lms_host.courseware import handlers
from tests.support.helpers import wait_for
from xqueue_bridge import api
from xqueue_bridge.models import Delivery, DeliveryEnd
from xqueue_bridge.outbox.runners import drain

HOST = Path(__file__).resolve().parent
RECEIVER = "tests.lms_host.courseware.handlers.handle_external_grader_score"
STAGES = ("callback", "shadow_callback", "shadow_event", "event")


def _grade(grader, reply: dict) -> None:
    served = grader.get_submission(QUEUE)
    assert served is not None
    assert grader.put_result(served["xqueue_header"], reply) == (True, "")


def test_the_bridge_is_installed_only_through_the_plugin_machinery():
    assert "xqueue_bridge.apps.XQueueBridgeConfig" in get_plugin_apps("lms.djangoapp")
    assert apps.is_installed("xqueue_bridge") and apps.is_installed("xqueue_bridge.shadow")
    assert not apps.is_installed("xqueue_bridge.sink")  # the LMS's receiving ends are the real ones
    assert reverse("xqueue-submit") == "/xqueue-bridge/xqueue/submit/"
    assert settings.XQUEUE_BRIDGE["RECEIVING_ENDS"] is False
    assert settings.XQUEUE_BRIDGE["RENDERER"] == "xqueue_bridge.render.CapaRenderer"
    for module in HOST.rglob("*.py"):  # the host project itself names no module of the bridge
        if module.name.startswith(("test_", "conftest")):
            continue
        assert "import xqueue_bridge" not in module.read_text() and "from xqueue_bridge" not in module.read_text()


def test_the_four_stages_deliver_each_result_once_through_the_lms_own_receiving_ends(lms, grader, learner):
    figures = {}
    for stage in STAGES:
        course = f"course-v1:HostX+{stage.replace('_', '')}+2026"
        api.set_stage(course, stage, reason="host test", changed_by="tests")
        learners = [learner(course) for _ in range(3)]
        for n, one in enumerate(learners):
            one.submit(lms)
            _grade(grader, {"correct": n % 2 == 0, "score": 1.0 if n % 2 == 0 else 0.0, "msg": f"<p>{stage} {n}</p>"})
        deliveries = Delivery.objects.filter(submission__course_id=course)
        path = "event" if stage in ("shadow_event", "event") else "callback"
        assert [d.path for d in deliveries] == [path] * 3
        assert {d.status for d in deliveries} == {"delivered"}
        for n, one in enumerate(learners):
            problem = one.problem()
            assert (problem.queuekey, problem.updates_applied) == (None, 1)
            assert problem.correctness == ("correct" if n % 2 == 0 else "incorrect")
            assert problem.msg == f"<p>{stage} {n}</p>"
        confirmed = DeliveryEnd.objects.filter(delivery__in=deliveries, status="confirmed")
        assert set(confirmed.values_list("end", flat=True)) == ({RECEIVER} if path == "event" else set())
        figures[stage] = (deliveries.count(), confirmed.count(), sum(o.problem().updates_applied - 1 for o in learners))
    comparisons = apps.get_model("xqueue_bridge_shadow", "Comparison").objects
    decided = comparisons.exclude(status="pending")
    assert wait_for(lambda: decided.count() == 6)  # three per shadow stage, none elsewhere
    assert set(comparisons.values_list("status", flat=True)) == {"matched"}
    print("four-stage loop in the host (delivered, confirmed by the LMS receiver, duplicates):", figures)
    assert figures == {"callback": (3, 0, 0), "shadow_callback": (3, 0, 0), "shadow_event": (3, 3, 0),
                       "event": (3, 3, 0)}


def test_a_receiver_that_raises_is_retried_and_the_result_applied_once(lms, grader, learner):
    course = "course-v1:HostX+Retry+2026"
    api.set_stage(course, "event", reason="host test", changed_by="tests")
    one = learner(course)
    one.submit(lms)
    handlers.FAILURES["remaining"] = 2
    _grade(grader, {"correct": True, "score": 1, "msg": "<p>late but once</p>"})
    delivery = Delivery.objects.get(submission__course_id=course)
    assert delivery.status == "pending" and "ConnectionError" in delivery.last_error
    drain()
    drain()
    delivery.refresh_from_db()
    end = DeliveryEnd.objects.get(delivery=delivery)
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert (end.end, end.status, end.attempts) == (RECEIVER, "confirmed", 3)
    assert (one.problem().msg, one.problem().updates_applied) == ("<p>late but once</p>", 1)
    drain()  # nothing is sent again once confirmed
    assert one.problem().updates_applied == 1 and DeliveryEnd.objects.get(delivery=delivery).attempts == 3


def test_a_learner_who_resubmits_gets_only_the_new_result(lms, grader, learner):
    course = "course-v1:HostX+Again+2026"
    api.set_stage(course, "event", reason="host test", changed_by="tests")
    one = learner(course)
    one.submit(lms)
    handlers.FAILURES["remaining"] = 1  # the first result is accepted but not delivered yet
    _grade(grader, {"correct": False, "score": 0, "msg": "old"})
    one.submit(lms)  # the learner submits again
    unanswered = grader.get_submission(QUEUE)
    handlers.FAILURES["remaining"] = 1  # the newest result meets one failure too; a superseded pull is refused
    one.submit(lms)
    assert grader.put_result(unanswered["xqueue_header"], {"correct": False, "score": 0, "msg": "older"})[0] is False
    drain()  # the stale result is withdrawn at its next attempt, not sent
    assert one.problem().updates_applied == 0
    _grade(grader, {"correct": True, "score": 1, "msg": "new"})
    drain()
    statuses = list(Delivery.objects.filter(submission__course_id=course).values_list("status", flat=True))
    assert statuses == ["withdrawn", "delivered"]
    assert (one.problem().msg, one.problem().updates_applied, one.problem().queuekey) == ("new", 1, None)


def test_the_rollout_flags_live_in_the_lms_database_and_its_toggle_report(lms_url):
    api.set_stage("course-v1:HostX+Flags+2026", "shadow_event", reason="host test", changed_by="tests")
    assert api.stage_of("course-v1:HostX+Flags+2026").stage == "shadow_event"
    flags = {flag["name"] for flag in ToggleStateReport().as_dict()["waffle_flags"]}
    assert {"xqueue_bridge.event_delivery", "xqueue_bridge.shadow_compare"} <= flags


def test_an_invalid_reply_reaches_the_learner_on_the_callback_path(lms, grader, learner):
    course = "course-v1:HostX+Invalid+2026"
    api.set_stage(course, "callback", reason="host test", changed_by="tests")
    one = learner(course)
    one.submit(lms)
    _grade(grader, json.dumps({"score": 1}))  # capa wants correct, score and msg
    assert one.problem().msg.startswith("Invalid grader reply")
