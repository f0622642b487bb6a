"""
The same answer in a request, a worker thread, a signal receiver and a management command, even when the
waffle flag behind the global layer has a percentage (which waffle rolls per request).
"""

from __future__ import annotations

import json
import random
import threading
from io import StringIO

import attr
import pytest
from django.core.management import call_command
from django.dispatch import Signal
from django.test import Client
from waffle import get_waffle_flag_model

from xqueue_bridge.flags import EVENT_DELIVERY
from xqueue_bridge.stage import rollout
from xqueue_bridge.stage.decide import decide_stage

COURSES = [
    "course-v1:edX+Physics+2026",  # course override
    "course-v1:MITx+6.00x+2026",  # org override
    *[f"course-v1:Org+C{i}+2026" for i in range(12)],  # percentage, in or out
]


@pytest.fixture
def rollout_state():
    get_waffle_flag_model().objects.create(name=EVENT_DELIVERY.name, percent=50, everyone=None)
    rollout.set_stage(COURSES[0], "shadow_event", reason="pilot", changed_by="ops-alice", force=True, allow_unseen=True)
    rollout.set_stage("MITx", "shadow_callback", reason="whole org", changed_by="ops-bob",
        force=True, allow_unseen=True)
    rollout.set_percentage("event_delivery", 40, reason="ramp", changed_by="ops-alice", force=True)


def outside_a_request() -> tuple[dict, dict]:
    flags = {course: attr.asdict(EVENT_DELIVERY.evaluate(course)) for course in COURSES}
    stages = {course: attr.asdict(decide_stage(course)) for course in COURSES}
    return flags, stages


@pytest.mark.urls("tests.toggles.urls")
@pytest.mark.django_db(transaction=True)
def test_requests_workers_receivers_and_commands_agree(rollout_state):
    expected_flags, expected_stages = outside_a_request()
    sources = {decision["source"] for decision in expected_flags.values()}
    assert sources == {"course", "org", "percentage", "global"}

    random.seed(20261125)  # waffle rolls its percentage with the random module: make its rolls repeatable
    waffle_answers = []
    for _ in range(20):
        response = Client().get("/decisions/", {"course": COURSES})  # a new client: no waffle cookie yet
        assert response.status_code == 200
        body = response.json()
        assert body["flag"] == expected_flags
        assert body["stage"] == expected_stages
        waffle_answers.append(body["waffle"])
    assert set(waffle_answers) == {True, False}  # plain waffle differed from request to request

    from_thread = []
    worker = threading.Thread(target=lambda: from_thread.append(outside_a_request()))
    worker.start()
    worker.join()
    assert from_thread == [(expected_flags, expected_stages)]

    score_submitted = Signal()
    received = []

    def receiver(sender, course, **kwargs):
        received.append(attr.asdict(decide_stage(course)))

    score_submitted.connect(receiver, weak=False)
    for course in COURSES:
        score_submitted.send(sender=None, course=course)
    assert received == [expected_stages[course] for course in COURSES]

    out = StringIO()
    call_command("rollout", "show", *COURSES, "--format", "json", stdout=out)
    shown = {row["target"]: row for row in json.loads(out.getvalue())}
    assert {course: {"stage": row["stage"], "reason": row["reason"]} for course, row in shown.items()} == (
        expected_stages
    )
    assert {course: row["flags"][EVENT_DELIVERY.name] for course, row in shown.items()} == expected_flags


@pytest.mark.django_db
def test_a_waffle_percentage_alone_never_turns_a_course_flag_on():
    get_waffle_flag_model().objects.create(name=EVENT_DELIVERY.name, percent=99.9, everyone=None)
    assert not any(EVENT_DELIVERY.is_enabled(course) for course in COURSES)


@pytest.mark.django_db
def test_waffle_everyone_no_keeps_the_global_layer_off():
    get_waffle_flag_model().objects.create(name=EVENT_DELIVERY.name, everyone=False, percent=50)
    assert EVENT_DELIVERY.evaluate(COURSES[3]).reason == "global default"
