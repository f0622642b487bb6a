"""The migration dashboard: staff only, the stage map and charts drawn, one move per course with its
reason (refused with readiness's reasons unless forced), and few aggregate queries at any size."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.support import cockpit as seed
from xqueue_bridge.stage import rollout

COURSE = "course-v1:BridgeX+Code101+2026"
OTHER = "course-v1:OtherU+Py+2026"


@pytest.fixture
def staff_client(client, db):
    client.force_login(seed.make_staff())
    return client


@pytest.fixture
def migration(db):
    """Two orgs, courses in each stage, results on both paths, comparisons matched and mismatched."""
    rollout.set_stage(COURSE, "shadow_callback", reason="pilot", changed_by="tests", allow_unseen=True)
    rollout.set_stage(OTHER, "event", reason="done", changed_by="tests", allow_unseen=True, force=True)
    callback = seed.submissions([COURSE] * 6, stage="shadow_callback")
    event = seed.submissions([OTHER] * 3, stage="event", hours_ago=3)
    seed.deliveries(callback, path="callback")
    seed.deliveries(event, path="event", latency=2.0)
    seed.comparisons(callback[:5], status="matched")
    seed.comparisons(callback[5:], status="mismatched")
    seed.submissions(["course-v1:BridgeX+Legacy+2026"], stage="callback")


def test_the_dashboard_is_for_staff_only(client, django_user_model, db):
    assert client.get("/cockpit/").status_code == 302  # to the admin's login
    django_user_model.objects.create_user("learner", password="pw")
    client.login(username="learner", password="pw")
    response = client.get("/cockpit/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_overview_draws_the_stage_map_volume_and_match_rate(staff_client, migration):
    page = staff_client.get("/cockpit/").content.decode()
    # The stage map: one bar segment per org and stage with courses in it.
    assert re.search(r'class="stage stage-shadow_callback"[^>]*><title>BridgeX: 1 in shadow_callback', page)
    assert re.search(r'class="stage stage-callback"[^>]*><title>BridgeX: 1 in callback', page)
    assert re.search(r'class="stage stage-event"[^>]*><title>OtherU: 1 in event', page)
    # Volume by path and the match rate (5 of 6 decided comparisons matched).
    assert page.count('class="bar bar-callback"') >= 1 and page.count('class="bar bar-event"') >= 1
    assert "callback 6 · event 3" in page
    assert re.search(r'<circle class="dot"[^>]*><title>[^<]*: 83\.3%</title>', page)
    assert "matched 5 · mismatched 1" in page
    # Latency by path (bucket bounds), queues and the latest moves, with links.
    assert "reply → delivery, event<b>2.5 / 2.5 s</b>" in page
    assert f'href="/cockpit/courses/{COURSE}/"' in page and "pilot" in page


def test_the_course_list_shows_stage_reason_and_readiness_filtered(staff_client, migration):
    page = staff_client.get("/cockpit/courses/", {"org": "BridgeX"}).content.decode()
    assert COURSE in page and OTHER not in page
    assert "not ready for shadow_event" in page and "comparisons in shadow_callback, at least 100 needed" in page
    page = staff_client.get("/cockpit/courses/", {"stage": "event"}).content.decode()
    assert OTHER in page and COURSE not in page


def test_a_move_forward_is_refused_with_the_reasons_and_changes_nothing(staff_client, migration):
    response = staff_client.post(f"/cockpit/courses/{COURSE}/move/", {"direction": "next", "reason": "looks fine"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Move refused" in page and "6 comparisons in shadow_callback, at least 100 needed" in page
    assert rollout.stage_of(COURSE).stage == "shadow_callback"
    assert [change.reason for change in rollout.history(COURSE)] == ["pilot"]


def test_a_forced_move_forward_and_a_move_back_are_recorded_with_their_reasons(staff_client, migration):
    response = staff_client.post(f"/cockpit/courses/{COURSE}/move/",
                                 {"direction": "next", "reason": "deadline", "force": "on"})
    assert response.status_code == 302
    assert rollout.stage_of(COURSE).stage == "shadow_event"
    page = staff_client.get(response["Location"]).content.decode()
    assert "moved from shadow_callback to shadow_event (forced past readiness)" in page
    assert '<b class="not-ready">forced</b>' in page
    assert "shadow_event past: readiness in shadow_callback not met: 6 comparisons in shadow_callback" in page

    response = staff_client.post(f"/cockpit/courses/{COURSE}/move/", {"direction": "back", "reason": "mismatch seen"})
    assert response.status_code == 302
    assert rollout.stage_of(COURSE).stage == "shadow_callback"
    changes = rollout.history(COURSE)
    assert [(c.change, c.changed_by, c.reason, bool(c.forced)) for c in changes[:2]] == [
        ("stage shadow_callback", "operator", "mismatch seen", False),
        ("stage shadow_event", "operator", "deadline", True),
    ]


@pytest.mark.parametrize("data, message", [
    ({"direction": "next", "reason": ""}, "a reason is required"),
    ({"direction": "sideways", "reason": "x"}, "expected next or back"),
])
def test_a_bad_move_is_refused_and_changes_nothing(staff_client, migration, data, message):
    response = staff_client.post(f"/cockpit/courses/{COURSE}/move/", data)
    assert response.status_code == 409 and message in response.content.decode()
    assert len(rollout.history(COURSE)) == 1


def test_a_course_in_the_last_stage_offers_only_back(staff_client, migration):
    page = staff_client.get(f"/cockpit/courses/{OTHER}/").content.decode()
    assert 'id="move-back"' in page and 'id="move-next"' not in page
    assert "/admin/xqueue_bridge/delivery/?course=" in page  # links into the admin


def test_the_pages_stay_a_few_aggregate_queries_with_10000_courses(staff_client, db, django_assert_max_num_queries):
    courses = [f"course-v1:Org{n % 40}+C{n}+2026" for n in range(10_000)]
    subs = seed.submissions(courses, stage="shadow_callback")
    seed.deliveries(subs[:3000])
    seed.comparisons(subs[:3000], per_submission=3)
    with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(30):
        page = staff_client.get("/cockpit/")
    assert page.status_code == 200 and "10000 known" in page.content.decode()
    # Every read of the comparisons and deliveries is an aggregate: no row of them comes back to Python.
    for query in queries.captured_queries:
        sql = query["sql"].upper()
        if "XQUEUE_BRIDGE_SHADOW_COMPARISON" in sql or "XQUEUE_BRIDGE_DELIVERY" in sql:
            assert "COUNT(" in sql or "MIN(" in sql, sql
    with django_assert_max_num_queries(30 + 50 * 3):  # readiness of the 50 courses shown
        assert staff_client.get("/cockpit/courses/").status_code == 200
