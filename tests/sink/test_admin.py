"""The sink's admin: registered, and read-only."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory

from xqueue_bridge.sink.models import LearnerUpdate, ProblemState


@pytest.mark.parametrize("model", [ProblemState, LearnerUpdate])
def test_sink_records_are_viewable_but_never_edited_in_the_admin(model, admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    model_admin = admin.site.get_model_admin(model)

    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


@pytest.mark.parametrize("model", [ProblemState, LearnerUpdate])
def test_admin_never_shows_queue_keys(model):
    model_admin = admin.site.get_model_admin(model)

    assert "queuekey" in model_admin.exclude
    assert "queuekey" not in model_admin.list_display
