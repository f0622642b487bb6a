"""
A long queue and a long outbox: a pull reads one row per status it may serve, however many wait; the
queue length counts what may be served and nothing else; a drain pass reads one bounded batch of due
deliveries, however many are pending. Counted in queries and rows, never timed (bench/backlog.py times it).
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.support.config import bridge_settings
from xqueue_bridge.conf import get_setting
from xqueue_bridge.intake import queue_api
from xqueue_bridge.models import Delivery, Submission
from xqueue_bridge.outbox import runners


def reads_of(table: str, queries: list[dict]) -> list[str]:
    """The reads among ``queries`` whose rows come from ``table``."""
    source = re.compile(r"\bfrom [`\"]?" + re.escape(table) + r"\b", re.IGNORECASE)
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT") and source.search(q["sql"])]


def timed_out() -> timezone.datetime:
    return timezone.now() - timedelta(seconds=get_setting("PULL_TIMEOUT") + 1)


def test_a_pull_reads_one_row_per_status_it_may_serve_however_long_the_queue(queue):
    submitted = [queue.submit() for _ in range(30)]

    with CaptureQueriesContext(connection) as pull:
        served = queue.pull()

    assert served.pk == submitted[0].pk
    reads = reads_of(Submission._meta.db_table, pull.captured_queries)
    assert len(reads) == 2, reads  # the oldest queued row, the oldest timed-out pulled row
    assert all(re.search(r"LIMIT 1\b", sql) and " OR " not in sql for sql in reads), reads


def test_a_pull_serves_a_timed_out_pulled_submission_before_newer_queued_ones(queue):
    first, second, third = (queue.submit() for _ in range(3))
    assert queue.pull().pk == first.pk
    assert queue.pull().pk == second.pk
    Submission.objects.filter(pk=second.pk).update(pulled_at=timed_out())

    again = queue.pull()

    assert again.pk == second.pk and again.pull_count == 2
    assert queue.pull().pk == third.pk
    assert queue.pull() is None  # the first is still held by its grader


def test_the_queue_length_counts_queued_and_timed_out_pulled_submissions_only(queue):
    graded = queue.grade(2)
    superseded = queue.submit(user_id=7001, block="again")
    newer = queue.submit(user_id=7001, block="again")  # the learner's newer answer supersedes the older one
    held, late, waiting = (queue.submit() for _ in range(3))
    assert [queue.pull().pk for _ in range(3)] == [newer.pk, held.pk, late.pk]
    Submission.objects.filter(pk__in=[newer.pk, late.pk]).update(pulled_at=timed_out())

    assert Submission.objects.get(pk=superseded.pk).status == Submission.Status.SUPERSEDED
    assert all(Submission.objects.get(pk=s.pk).status == Submission.Status.GRADED for s in graded)
    assert Submission.objects.get(pk=held.pk).status == Submission.Status.PULLED
    assert Submission.objects.get(pk=waiting.pk).status == Submission.Status.QUEUED
    assert queue_api.queue_length(queue.queue_name) == 3  # ``newer`` and ``late`` timed out, ``waiting``


def test_a_drain_pass_reads_one_bounded_batch_of_a_long_backlog(queue, lms_server):
    with bridge_settings(DELIVERY_MODE="worker"):
        queue.grade(12)
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 12

    with CaptureQueriesContext(connection) as first_pass:
        assert runners.drain(limit=5) == 5

    reads = reads_of(Delivery._meta.db_table, first_pass.captured_queries)
    assert reads and all(re.search(r"LIMIT \d+\b", sql) for sql in reads), reads
    assert any(re.search(r"LIMIT 5\b", sql) for sql in reads), reads  # the due ids: one batch of the limit
    assert Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == 5
    assert len(lms_server.calls) == 5
    assert runners.drain(limit=5) == 5 and runners.drain(limit=5) == 2
    assert Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == 12
