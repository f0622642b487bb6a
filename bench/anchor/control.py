"""Control process of the edx-submissions anchor (``bench._control`` protocol)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.anchor.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from submissions import api  # noqa: E402

from bench._control import serve  # noqa: E402
from bench._plain import grader_account, wait_for_sink  # noqa: E402
from bench.anchor.models import SinkRow  # noqa: E402


def setup(username: str, password: str) -> None:
    if connection.vendor == "mysql":
        # edx-submissions 4.0.2's 0006 converts the uuid columns that Django before 5 made char(32) on
        # MariaDB, naming two tables that have none, so it fails on a fresh database; there Django 5.2
        # makes the columns uuid already. It is marked applied, as on a database it converted.
        call_command("migrate", "submissions", "0001_squashed_0005_CreateTeamModel", interactive=False, verbosity=0)
        call_command("migrate", "submissions", "0006_mariadb_uuid_conversion", fake=True, interactive=False,
                     verbosity=0)
    call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
    grader_account(username, password)


def seed(queue: str, n: int) -> int:
    """What the LMS does for a learner's answer when its course sends to edx-submissions."""
    for number in range(n):
        item = {"student_id": f"anon-{queue}-{number}", "course_id": "course-v1:Bench+Anchor+2026",
                "item_id": f"block-v1:Bench+Anchor+2026+type@problem+block@{queue}-{number}", "item_type": "problem"}
        api.create_external_grader_detail(item, "answer", queue_name=queue, queue_key=f"key-{queue}-{number}")
    return n


def wait(queue: str, n: int, timeout: float) -> dict:
    return wait_for_sink(SinkRow.objects.filter(queue_name=queue), "submission_id", n, timeout)


if __name__ == "__main__":
    serve({"setup": setup, "seed": seed, "wait": wait})
