"""Connects the forwarding receiver when the app is ready, and puts the courses named in the environment on the
event path (what the rollout flags decide in production)."""

import json
import os

import requests
from django.apps import AppConfig


def forward_score(sender, signal, score, **kwargs):
    header = json.dumps({"lms_key": score.queue_key, "submission_id": score.submission_id})
    response = requests.post(
        os.environ["XQB_TEST_EVENT_SINK_URL"],
        data={"xqueue_header": header, "xqueue_body": score.score_msg},
        timeout=(1, 2),
    )
    if response.status_code != 200:
        raise RuntimeError(f"score sink answered HTTP {response.status_code}")


def put_courses_on_the_event_path(courses: set[str]) -> None:
    from xqueue_bridge.data import StageDecision
    from xqueue_bridge.intake import queue_api

    decide = queue_api.decide_stage

    def decide_stage(course_key):
        if str(course_key) in courses:
            return StageDecision("event", "test: event course")
        return decide(course_key)

    queue_api.decide_stage = decide_stage


class ProbeConfig(AppConfig):
    name = "tests.support.probe"
    label = "xqb_test_probe"

    def ready(self):
        from openedx_events.learning.signals import EXTERNAL_GRADER_SCORE_SUBMITTED

        from xqueue_bridge.transports.event import register_receiving_end

        EXTERNAL_GRADER_SCORE_SUBMITTED.connect(forward_score, dispatch_uid="xqb-test-probe", weak=False)
        register_receiving_end("test probe", lambda: True, forward_score)
        courses = {c for c in os.environ.get("XQB_TEST_EVENT_COURSES", "").split(",") if c}
        if courses:
            put_courses_on_the_event_path(courses)
