"""Control process of the floor (``bench._control`` protocol): set up, seed a queue, wait for its results."""

import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.floor.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import close_old_connections  # noqa: E402
from django.db.models import Count, Max  # noqa: E402

from bench._control import serve  # noqa: E402
from bench.floor.models import Item, SinkRow  # noqa: E402


def setup(username: str, password: str) -> None:
    call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
    user, _ = User.objects.get_or_create(username=username)
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get_or_create(name="xqueue")[0])


def seed(queue: str, n: int) -> int:
    body = '{"grader_payload": "", "student_info": "{}", "student_response": "answer"}'
    Item.objects.bulk_create([Item(queue_name=queue, body=body) for _ in range(n)], batch_size=500)
    return n


def wait(queue: str, n: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    rows = SinkRow.objects.filter(item__queue_name=queue)
    while rows.count() < n and time.monotonic() < deadline:
        time.sleep(0.05)
        close_old_connections()
    per_item = rows.values("item").annotate(times=Count("id"))
    last = rows.aggregate(last=Max("created_at"))["last"]
    return {"delivered": rows.count(), "results": per_item.count(),
            "doubled": per_item.filter(times__gt=1).count(), "last_delivery_at": last.timestamp() if last else None}


if __name__ == "__main__":
    serve({"setup": setup, "seed": seed, "wait": wait})
