"""The admin adds history rows stamped with the account, and never edits or deletes them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from toggles.models import CourseOverride, OrgOverride, Percentage
from xqueue_bridge.flags import EVENT_DELIVERY
from xqueue_bridge.stage import rollout

COURSE = "course-v1:edX+Physics+2026"

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("ops-admin", "ops@example.com", "pw")
    client.force_login(user)
    client.user = user
    return client


def test_adding_a_course_override_stamps_who_and_takes_effect(admin_client):
    response = admin_client.post(
        reverse("admin:toggles_courseoverride_add"),
        {"flag_name": EVENT_DELIVERY.name, "course_id": COURSE, "value": "on", "reason": "pilot",
         "force": "on", "allow_unseen": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = CourseOverride.objects.get()
    assert (row.changed_by, row.changed_by_user, row.reason) == ("ops-admin", admin_client.user, "pilot")
    decision = EVENT_DELIVERY.evaluate(COURSE)
    assert decision.enabled is True
    assert decision.reason.startswith("course override by ops-admin ")


def test_adding_an_org_override_and_a_percentage(admin_client):
    assert (
        admin_client.post(
            reverse("admin:toggles_orgoverride_add"),
            {"flag_name": EVENT_DELIVERY.name, "org": "MITx", "value": "off", "reason": "hold", "allow_unseen": "on"},
        ).status_code
        == 302
    )
    assert (
        admin_client.post(
            reverse("admin:toggles_percentage_add"),
            {"flag_name": EVENT_DELIVERY.name, "percent": "12.5", "reason": "ramp", "force": "on"},
        ).status_code
        == 302
    )
    assert OrgOverride.objects.get().changed_by == "ops-admin"
    assert str(Percentage.objects.get().percent) == "12.50"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"course_id": "course-v1:edX+Physics", "value": "on", "reason": "pilot"}, "is not a course key"),
        ({"course_id": COURSE, "value": "on", "reason": ""}, "This field is required"),
        ({"course_id": COURSE, "value": "maybe", "reason": "pilot"}, "Select a valid choice"),
    ],
)
def test_a_bad_row_is_a_form_error_and_nothing_is_written(admin_client, data, message):
    response = admin_client.post(
        reverse("admin:toggles_courseoverride_add"), {"flag_name": EVENT_DELIVERY.name, **data}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CourseOverride.objects.exists()


def test_a_bad_percentage_is_a_form_error(admin_client):
    response = admin_client.post(
        reverse("admin:toggles_percentage_add"),
        {"flag_name": EVENT_DELIVERY.name, "percent": "120", "reason": "r"},
    )
    assert response.status_code == 200
    assert "out of range" in response.content.decode()
    assert not Percentage.objects.exists()


def test_the_list_shows_who_when_why_and_which_row_is_in_effect(admin_client):
    rollout.set_stage(COURSE, "event", reason="first", changed_by="ops-alice", force=True, allow_unseen=True)
    rollout.set_stage(COURSE, "callback", reason="second", changed_by="ops-bob", force=True, allow_unseen=True)
    response = admin_client.get(reverse("admin:toggles_courseoverride_changelist"))
    page = response.content.decode()
    assert response.status_code == 200
    for text in ("ops-alice", "ops-bob", "first", "second", "In effect"):
        assert text in page
    assert page.count('alt="True"') == 2  # the two rows of the latest change, one per flag
    assert page.count('alt="False"') == 2


def test_rows_can_be_viewed_but_not_changed_or_deleted(admin_client):
    rollout.set_stage(COURSE, "event", reason="pilot", changed_by="ops-alice", force=True, allow_unseen=True)
    row = CourseOverride.objects.first()
    change_url = reverse("admin:toggles_courseoverride_change", args=[row.pk])
    view = admin_client.get(change_url)
    assert view.status_code == 200
    assert "pilot" in view.content.decode()
    other = "on" if row.value == "off" else "off"
    edit = {"flag_name": row.flag_name, "course_id": COURSE, "value": other, "reason": "edit"}
    assert admin_client.post(change_url, edit).status_code == 403
    delete_url = reverse("admin:toggles_courseoverride_delete", args=[row.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert CourseOverride.objects.get(pk=row.pk).value == row.value
    assert CourseOverride.objects.count() == 2


def test_org_and_percentage_history_pages_show_the_rows(admin_client):
    rollout.set_stage("MITx", "shadow_event", reason="whole org", changed_by="ops-bob", force=True, allow_unseen=True)
    rollout.set_percentage("event_delivery", 20, reason="ramp", changed_by="ops-carol", force=True)
    orgs = admin_client.get(reverse("admin:toggles_orgoverride_changelist")).content.decode()
    percentages = admin_client.get(reverse("admin:toggles_percentage_changelist")).content.decode()
    assert "MITx" in orgs and "whole org" in orgs and "ops-bob" in orgs
    assert "20.00" in percentages and "ramp" in percentages and "ops-carol" in percentages
    row = Percentage.objects.get()
    assert admin_client.get(reverse("admin:toggles_percentage_change", args=[row.pk])).status_code == 200
