"""Control process of the floor (``bench._control`` protocol): set up, seed a queue, wait for its results."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.floor.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from bench._control import serve  # noqa: E402
from bench._plain import grader_account, wait_for_sink  # noqa: E402
from bench.floor.models import Item, SinkRow  # noqa: E402


def setup(username: str, password: str) -> None:
    call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
    grader_account(username, password)


def seed(queue: str, n: int) -> int:
    body = '{"grader_payload": "", "student_info": "{}", "student_response": "answer"}'
    Item.objects.bulk_create([Item(queue_name=queue, body=body) for _ in range(n)], batch_size=500)
    return n


def wait(queue: str, n: int, timeout: float) -> dict:
    return wait_for_sink(SinkRow.objects.filter(item__queue_name=queue), "item", n, timeout)


if __name__ == "__main__":
    serve({"setup": setup, "seed": seed, "wait": wait})
