"""
The accounts that use the XQueue API (the LMS and the graders): created or updated with a role, or in the
legacy ``XQUEUE_BRIDGE['GROUP']`` (every role) when none is given.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from xqueue_bridge import roles
from xqueue_bridge.conf import get_setting


def ensure_user(username: str, password: str, role: str | None = None,
                queues: Iterable[str] | None = None) -> bool:
    """
    Create or update ``username`` with ``password``; True if it was created. With ``role`` the account gets
    that role (a grader: ``queues``, None for every queue); without, it joins the legacy group (every role).
    """
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"is_active": True})
    user.set_password(password)
    user.is_active = True
    user.save()
    if role is None:
        user.groups.add(Group.objects.get_or_create(name=get_setting("GROUP"))[0])
    else:
        roles.set_roles(user, [role], None if queues is None else list(queues))
    return created
