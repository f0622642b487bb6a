"""The accounts that use the XQueue API (the LMS and the graders): members of ``XQUEUE_BRIDGE['GROUP']``."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from xqueue_bridge.conf import get_setting


def ensure_user(username: str, password: str) -> bool:
    """Create or update ``username`` with ``password`` in the XQueue group; True if it was created."""
    group, _ = Group.objects.get_or_create(name=get_setting("GROUP"))
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"is_active": True})
    user.set_password(password)
    user.is_active = True
    user.save()
    user.groups.add(group)
    return created
