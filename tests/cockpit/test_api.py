"""The operators' API: staff only by session or token, paginated, the dashboard's data and actions, and a
valid OpenAPI schema."""

from __future__ import annotations

import json

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.support import cockpit as seed
from xqueue_bridge.models import Delivery
from xqueue_bridge.stage import rollout

COURSE = "course-v1:BridgeX+Code101+2026"


@pytest.fixture
def api(db):
    client = APIClient()
    client.force_authenticate(seed.make_staff())
    return client


@pytest.fixture
def courses(db):
    rollout.set_stage(COURSE, "shadow_callback", reason="pilot", changed_by="tests", allow_unseen=True)
    subs = seed.submissions([COURSE] * 3, stage="shadow_callback")
    seed.deliveries(subs[:2])
    seed.deliveries(subs[2:], status=Delivery.Status.DEAD, attempts=5)
    seed.comparisons(subs, status="matched")
    seed.submissions([f"course-v1:Many+C{n}+2026" for n in range(60)], stage="callback",
                     status="queued")
    return subs


def test_only_staff_may_use_the_api_by_session_or_token(db, django_user_model):
    anonymous = APIClient()
    assert anonymous.get("/api/v1/courses/").status_code in (401, 403)
    learner = django_user_model.objects.create_user("learner", password="pw")
    client = APIClient()
    client.force_authenticate(learner)
    assert client.get("/api/v1/courses/").status_code == 403
    token = Token.objects.create(user=seed.make_staff())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/courses/").status_code == 200


def test_courses_are_paginated_and_filtered(api, courses):
    page = api.get("/api/v1/courses/").json()
    assert page["count"] == 61 and len(page["results"]) == 50 and page["next"].endswith("page=2")
    assert page["results"][0]["course"] == COURSE  # sorted by course key
    assert len(api.get("/api/v1/courses/", {"page": 2}).json()["results"]) == 11
    only = api.get("/api/v1/courses/", {"org": "BridgeX"}).json()
    assert only["results"] == [{"course": COURSE, "org": "BridgeX", "stage": "shadow_callback",
                                "reason": only["results"][0]["reason"]}]
    assert api.get("/api/v1/courses/", {"stage": "nope"}).status_code == 400


def test_a_refused_move_gives_the_reasons_and_a_forced_one_is_in_the_history(api, courses):
    refused = api.post(f"/api/v1/courses/{COURSE}/move/", {"direction": "next", "reason": "go"}, format="json")
    assert refused.status_code == 409
    assert "3 comparisons in shadow_callback, at least 100 needed" in refused.json()["reasons"]
    assert rollout.stage_of(COURSE).stage == "shadow_callback"
    moved = api.post(f"/api/v1/courses/{COURSE}/move/", {"direction": "next", "reason": "go", "force": True},
                     format="json")
    assert moved.status_code == 200
    assert moved.json() | {"readiness": []} == {
        "course": COURSE, "from_stage": "shadow_callback", "to_stage": "shadow_event", "forced": True,
        "reason": "go", "readiness": [],
    }
    history = api.get("/api/v1/history/", {"course": COURSE}).json()["results"]
    assert [(h["change"], h["reason"]) for h in history] == [
        ("stage shadow_event", "go"), ("stage shadow_callback", "pilot")]
    # The rollout records the forced move with what it went past.
    assert "readiness in shadow_callback not met: 3 comparisons" in history[0]["forced"] and not history[1]["forced"]
    detail = api.get(f"/api/v1/courses/{COURSE}/").json()
    assert detail["stage"] == "shadow_event" and detail["history"][0]["forced"] == history[0]["forced"]
    unseen = api.post("/api/v1/courses/course-v1:Nobody+Typo+2026/move/", {"direction": "next", "reason": "x"},
                      format="json")
    assert unseen.status_code == 409 and "has reached the bridge" in unseen.json()["reasons"][0]
    assert api.post(f"/api/v1/courses/{COURSE}/move/", {"direction": "up", "reason": "x"},
                    format="json").status_code == 400


def test_readiness_shadow_report_queues_and_series(api, courses):
    readiness = api.get("/api/v1/readiness/", {"org": "BridgeX"}).json()["results"]
    assert readiness[0]["course_id"] == COURSE and readiness[0]["ready"] is False
    report = api.get("/api/v1/shadow-report/", {"since": "24h"}).json()
    assert report["groups"][0]["group"] == COURSE and report["groups"][0]["matched"] == 3
    assert api.get("/api/v1/shadow-report/", {"since": "yesterday-ish"}).status_code == 400
    queues = {(row["queue"], row["status"]): row for row in api.get("/api/v1/queues/").json()}
    assert queues[("test-pull", "queued")]["count"] == 60 and queues[("test-pull", "queued")]["oldest_age"] >= 3600
    assert queues[("test-pull", "delivery dead")]["count"] == 1
    assert queues[("other-queue", "queued")] == {"queue": "other-queue", "status": "queued", "count": 0,
                                                 "oldest_age": None}
    volume = api.get("/api/v1/series/volume/", {"bucket": "hour", "periods": 3}).json()
    assert len(volume) == 3 and sum(point["callback"] for point in volume) == 2
    matches = api.get("/api/v1/series/comparisons/", {"bucket": "day", "periods": 2}).json()
    # The comparisons are an hour old: today's bucket, or yesterday's just after midnight (UTC).
    assert len(matches) == 2 and sum(point["matched"] for point in matches) == 3
    assert [point["match_rate"] for point in matches if point["matched"]] == [1.0]
    assert api.get("/api/v1/series/volume/", {"periods": "0"}).status_code == 400
    overview = api.get("/api/v1/overview/").json()
    assert overview["stages"]["shadow_callback"] == 1 and overview["deliveries"]["dead"]["count"] == 1


def test_deliveries_are_listed_and_dead_ones_replayed(api, courses):
    dead = api.get("/api/v1/deliveries/", {"status": "dead"}).json()
    assert dead["count"] == 1 and dead["results"][0]["course"] == COURSE and "replay" in dead["results"][0]
    assert "event_data" not in dead["results"][0]
    dry = api.post("/api/v1/deliveries/replay/", {"course": COURSE, "dry_run": True}, format="json").json()
    assert [d["id"] for d in dry["selected"]] == [dead["results"][0]["id"]] and dry["replayed"] == []
    assert Delivery.objects.filter(status="dead").count() == 1
    done = api.post("/api/v1/deliveries/replay/", {"ids": [dead["results"][0]["id"]]}, format="json").json()
    assert done["replayed"] == [dead["results"][0]["id"]]
    assert Delivery.objects.get(pk=done["replayed"][0]).status == "pending"
    assert api.post("/api/v1/deliveries/replay/", {}, format="json").status_code == 400


def test_the_deliveries_command_prints_the_apis_json(api, courses, capsys):
    call_command("deliveries", "--format", "json")
    printed = json.loads(capsys.readouterr().out)
    served = api.get("/api/v1/deliveries/").json()["results"]
    assert printed == served


def test_the_openapi_schema_is_served_and_valid(client, db, tmp_path):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document
    assert {"/api/v1/courses/", "/api/v1/courses/{course}/move/", "/api/v1/deliveries/replay/",
            "/api/v1/queues/", "/api/v1/readiness/", "/api/v1/shadow-report/", "/api/v1/history/"} <= set(
        schema["paths"])
    # And the generator has nothing to warn about.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
