"""
The commands the floor's and the anchor's control processes share (imported once Django is set up):
the grader's account, and the wait for one sink row per result.
"""

from __future__ import annotations

import time

from django.contrib.auth.models import Group, User
from django.db import close_old_connections
from django.db.models import Count, Max, QuerySet


def grader_account(username: str, password: str) -> None:
    """The account the graders log in with, in the ``xqueue`` group as XQueue's are."""
    user, _ = User.objects.get_or_create(username=username)
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get_or_create(name="xqueue")[0])


def wait_for_sink(rows: QuerySet, result: str, n: int, timeout: float) -> dict:
    """Wait until ``rows`` (sink rows, one a delivery) number ``n``; count them per ``result`` field."""
    deadline = time.monotonic() + timeout
    while rows.count() < n and time.monotonic() < deadline:
        time.sleep(0.05)
        close_old_connections()
    per_result = rows.values(result).annotate(times=Count("id"))
    last = rows.aggregate(last=Max("created_at"))["last"]
    return {"delivered": rows.count(), "results": per_result.count(),
            "doubled": per_result.filter(times__gt=1).count(), "last_delivery_at": last.timestamp() if last else None}
