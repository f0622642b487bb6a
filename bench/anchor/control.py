"""Control process of the edx-submissions anchor (``bench._control`` protocol)."""

import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.anchor.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import close_old_connections  # noqa: E402
from django.db.models import Count, Max  # noqa: E402
from submissions import api  # noqa: E402

from bench._control import serve  # noqa: E402
from bench.anchor.models import SinkRow  # noqa: E402


def setup(username: str, password: str) -> None:
    call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
    user, _ = User.objects.get_or_create(username=username)
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get_or_create(name="xqueue")[0])


def seed(queue: str, n: int) -> int:
    """What the LMS does for a learner's answer when its course sends to edx-submissions."""
    for number in range(n):
        item = {"student_id": f"anon-{queue}-{number}", "course_id": "course-v1:Bench+Anchor+2026",
                "item_id": f"block-v1:Bench+Anchor+2026+type@problem+block@{queue}-{number}", "item_type": "problem"}
        api.create_external_grader_detail(item, "answer", queue_name=queue, queue_key=f"key-{queue}-{number}")
    return n


def wait(queue: str, n: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    rows = SinkRow.objects.filter(queue_name=queue)
    while rows.count() < n and time.monotonic() < deadline:
        time.sleep(0.05)
        close_old_connections()
    per_item = rows.values("submission_id").annotate(times=Count("id"))
    last = rows.aggregate(last=Max("created_at"))["last"]
    return {"delivered": rows.count(), "results": per_item.count(),
            "doubled": per_item.filter(times__gt=1).count(), "last_delivery_at": last.timestamp() if last else None}


if __name__ == "__main__":
    serve({"setup": setup, "seed": seed, "wait": wait})
