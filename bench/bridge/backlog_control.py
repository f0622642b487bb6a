"""
Control process of one backlog instance (``bench._control`` protocol), under the standalone settings.

``seed_queue`` bulk-inserts queued submissions behind a graded history, as the LMS's submits and the
graders would have left them; ``seed_backlog``
bulk-inserts graded submissions whose result deliveries are pending (the LMS was down), each calling back
to the loopback stand-in of the LMS; ``explain`` shows the plans of a pull's queries; ``outbox`` counts the
deliveries by status.
"""

import json
import os
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xqueue_bridge.runtime.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import close_old_connections, connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench._control import serve  # noqa: E402
from xqueue_bridge.accounts import ensure_user  # noqa: E402
from xqueue_bridge.intake import queue_api  # noqa: E402
from xqueue_bridge.models import Delivery, Submission, callback_digest  # noqa: E402
from xqueue_bridge.runtime.clients import make_body, make_header  # noqa: E402

COURSE = "course-v1:Bench+backlog+2026"
BATCH = 2000
REPLY = json.dumps({"correct": True, "score": 1.0, "msg": "<p>4 of 4 tests passed</p>"})


def setup(username: str, password: str) -> None:
    call_command("migrate", interactive=False, verbosity=0)
    ensure_user(username, password)


def _submission(number: int, queue: str, root: str, **fields) -> Submission:
    """A row as ``queue_api.submit`` writes it: the LMS's strings verbatim, the callback parsed."""
    usage = f"block-v1:Bench+backlog+2026+type@problem+block@p{number}"
    url = f"{root}/courses/{COURSE}/xqueue/{number}/{usage}/score_update"
    key = f"{number:032x}"
    return Submission(
        queue_name=queue, xqueue_header=make_header(url, key, queue),
        xqueue_body=make_body("def double(x):\n    return 2 * x\n", f"anon-{number}"), lms_callback_url=url,
        callback_digest=callback_digest(url), lms_key=key, course_id=COURSE, usage_key=usage, user_id=str(number),
        anonymous_student_id=f"anon-{number}", stage="callback", stage_reason="callback: benchmark", **fields,
    )


def _bulk(queue: str, n: int, **fields) -> None:
    start = Submission.objects.count()
    created = timezone.now() - timedelta(hours=1)
    for offset in range(0, n, BATCH):
        Submission.objects.bulk_create([
            _submission(start + number, queue, "http://127.0.0.1:9", created_at=created, **fields)
            for number in range(offset, min(n, offset + BATCH))
        ])


def seed_queue(queue: str, n: int, history: int = 0) -> int:
    """``history`` graded submissions of ``queue``, then ``n`` queued ones behind them, in bulk inserts."""
    _bulk(queue, history, status=Submission.Status.GRADED, grader_reply=REPLY, replied_at=timezone.now())
    _bulk(queue, n)
    refresh_statistics()
    return queue_api.queue_length(queue)


def seed_backlog(queue: str, n: int, lms_root: str) -> int:
    """``n`` graded submissions whose callback deliveries are pending and due, calling back to ``lms_root``."""
    now = timezone.now()
    for offset in range(0, n, BATCH):
        subs = Submission.objects.bulk_create([
            _submission(number, queue, lms_root, status=Submission.Status.GRADED, grader_reply=REPLY, replied_at=now,
                        pullkey=f"{number:032x}")
            for number in range(offset, min(n, offset + BATCH))
        ])
        Delivery.objects.bulk_create([
            Delivery(submission=sub, path="callback", body=REPLY, next_attempt_at=now, created_at=now,
                     budget_started_at=now)
            for sub in subs
        ])
    refresh_statistics()
    return Delivery.objects.filter(status=Delivery.Status.PENDING).count()


def refresh_statistics() -> None:
    """
    What PostgreSQL's autovacuum and InnoDB's automatic statistics do within a minute of a bulk insert (the
    planner would otherwise take a table of 100,000 rows for an empty one). SQLite keeps no statistics
    unless told to, and the bridge never tells it: it is left as a deployment finds it.
    """
    tables = [Submission._meta.db_table, Delivery._meta.db_table]
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f"VACUUM ANALYZE {table}")
            elif connection.vendor == "mysql":
                cursor.execute(f"ANALYZE TABLE {table}")
                cursor.fetchall()


def outbox() -> dict:
    """Deliveries by status (what the drainer has left)."""
    close_old_connections()
    return dict(Delivery.objects.values_list("status").annotate(n=Count("id")).order_by())


def explain(queue: str) -> list[str]:
    """The database's plan of each query a pull of ``queue`` runs to find its submission."""
    with transaction.atomic():  # a pull's queries lock their row where the database can
        return [query.explain() for query in queue_api.pull_candidates(queue)]


if __name__ == "__main__":
    serve({"setup": setup, "seed_queue": seed_queue, "seed_backlog": seed_backlog, "outbox": outbox,
           "explain": explain})
