"""Monitoring of one result: custom attributes on each XQueue request and delivery, one structured log
line per submission and delivery (submission id, course, stage; never a key), and the Prometheus counters."""

from __future__ import annotations

import json
import logging

import pytest
import requests
from prometheus_client import REGISTRY

from tests.support.lms import COURSE, submission_for
from xqueue_bridge import monitoring
from xqueue_bridge.runtime.logs import JsonFormatter


@pytest.fixture
def attributes(monkeypatch):
    seen: list[tuple[str, object]] = []
    monkeypatch.setattr(monitoring, "set_custom_attribute", lambda name, value: seen.append((name, value)))
    return seen


def _sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_result_is_annotated_logged_and_counted_without_secrets(lms, grader, learner, attributes, caplog):
    url, _ = learner(queuekey="lms-key-secret-123")
    before = {
        "submissions": _sample("xqueue_bridge_submissions_total", stage="callback"),
        "delivered": _sample("xqueue_bridge_delivery_attempts_total", path="callback", kind="result",
                             outcome="delivered"),
        "latency": _sample("xqueue_bridge_delivery_latency_seconds_count", path="callback"),
    }
    caplog.set_level(logging.INFO, logger="xqueue_bridge.monitoring")
    assert lms.submit(*submission_for(url, key="lms-key-secret-123"))[0] == 0
    served = grader.get_submission("test-pull")
    assert grader.put_result(served["xqueue_header"], {"correct": True, "score": 1, "msg": "ok"}) == (True, "")
    submission_id = json.loads(served["xqueue_header"])["submission_id"]

    names = {name: value for name, value in attributes}
    assert names["xqueue_bridge.course"] == COURSE and names["xqueue_bridge.stage"] == "callback"
    assert names["xqueue_bridge.submission_id"] == submission_id and names["xqueue_bridge.queue"] == "test-pull"
    assert {value for name, value in attributes if name == "xqueue_bridge.endpoint"} == {
        "login", "submit", "get_submission", "put_result"}
    assert names["xqueue_bridge.path"] == "callback" and names["xqueue_bridge.outcome"] == "delivered"
    assert names["xqueue_bridge.attempt"] == 1

    lines = [record for record in caplog.records if record.name == "xqueue_bridge.monitoring"]
    assert [record.xqb["event"] for record in lines] == ["submission_received", "delivery_finished"]
    assert lines[1].getMessage().startswith(
        f"delivery_finished submission_id={submission_id} course={COURSE} queue=test-pull stage=callback ")
    as_json = json.loads(JsonFormatter().format(lines[1]))
    assert as_json["submission_id"] == submission_id and as_json["outcome"] == "delivered"
    assert "lms-key-secret-123" not in caplog.text and "lms-key-secret-123" not in repr(attributes)

    assert _sample("xqueue_bridge_submissions_total", stage="callback") == before["submissions"] + 1
    assert _sample("xqueue_bridge_delivery_attempts_total", path="callback", kind="result",
                   outcome="delivered") == before["delivered"] + 1
    assert _sample("xqueue_bridge_delivery_latency_seconds_count", path="callback") == before["latency"] + 1


def test_metrics_page_reads_queue_gauges_from_the_database(client, db):
    from tests.support import cockpit as seed

    seed.submissions(["course-v1:edX+DemoX+2026"] * 2, status="queued", stage="shadow_event")
    page = client.get("/metrics")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'xqueue_bridge_queue_length{queue="test-pull",status="queued"} 2.0' in text
    assert 'xqueue_bridge_live_submissions{stage="shadow_event",status="queued"} 2.0' in text
    assert 'xqueue_bridge_deliveries{state="dead"} 0.0' in text


def test_health_names_a_stalled_outbox(client, db, settings):
    from datetime import timedelta

    from django.utils import timezone

    from tests.support import cockpit as seed
    from xqueue_bridge.models import Delivery

    subs = seed.submissions(["course-v1:edX+DemoX+2026"])
    seed.deliveries(subs, status="pending", attempts=0)
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=10))
    health = client.get("/health/")
    assert health.status_code == 503
    assert health.json()["detailed_status"]["outbox_status"] == "UNAVAILABLE"
    assert "HEALTH_MAX_DUE_AGE 300 s" in health.json()["messages"]["outbox"]
    settings.XQUEUE_BRIDGE = {**settings.XQUEUE_BRIDGE, "HEALTH_MAX_DUE_AGE": 3600}
    assert client.get("/health/").status_code == 200


def test_every_xqueue_request_and_every_operators_api_request_carries_its_endpoint(bridge_url, grader, attributes,
                                                                                  db):
    """Not only a result's three requests: the status, the queue length and the operators' API are seen too."""
    from rest_framework.test import APIClient

    from tests.support import cockpit as seed

    assert grader.get_queuelen("test-pull") == (True, 0)
    assert requests.get(f"{bridge_url}/xqueue/status/", timeout=5).json()["return_code"] == 0
    api = APIClient()
    api.force_authenticate(seed.make_staff())
    assert api.get("/api/v1/courses/course-v1:BridgeX+Code101+2026/").status_code in (200, 404)

    endpoints = [value for name, value in attributes if name == "xqueue_bridge.endpoint"]
    assert endpoints[:2] == ["get_queuelen", "status"]
    assert endpoints[-1] == "api.CourseDetailView"
    assert ("xqueue_bridge.queue", "test-pull") in attributes
    assert ("xqueue_bridge.course", "course-v1:BridgeX+Code101+2026") in attributes


def test_dashboard_pages_carry_their_name_and_course_as_custom_attributes(client, db, attributes):
    from tests.support import cockpit as seed
    from xqueue_bridge.stage import rollout

    client.force_login(seed.make_staff())
    rollout.set_stage(COURSE, "shadow_callback", reason="pilot", changed_by="tests", allow_unseen=True)
    for url in ("/cockpit/", "/cockpit/courses/", f"/cockpit/courses/{COURSE}/"):
        assert client.get(url).status_code == 200
    client.post(f"/cockpit/courses/{COURSE}/move/", {"direction": "back", "reason": "undo"})

    assert [value for name, value in attributes if name == "xqueue_bridge.endpoint"] == [
        "cockpit.overview", "cockpit.course_list", "cockpit.course", "cockpit.move"]
    assert [value for name, value in attributes if name == "xqueue_bridge.course"] == [COURSE, COURSE]
