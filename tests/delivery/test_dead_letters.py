"""
Terminal failure is visible and recoverable: a dead delivery is listed with its reason (``xqueue-bridge
deliveries --status dead``, the admin), and ``xqueue-bridge replay`` (by id, course, queue or time range,
``--dry-run`` first) or the admin action queues it again with a fresh retry budget.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from tests.support.config import FAST_RETRY, bridge_settings
from tests.support.grading import REPLY
from tests.support.lms import Fault, FaultPlan
from tests.support.processes import ROOT, database_url
from xqueue_bridge import api
from xqueue_bridge.intake.parsing import parse_submit
from xqueue_bridge.models import Delivery
from xqueue_bridge.outbox import runners
from xqueue_bridge.runtime.clients import make_body, make_header

HTTP_500 = Fault("status", status=500)
OTHER_COURSE = "course-v1:OtherX+Code202+2026"


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def dead(queue, lms_server):
    """Three results given up while the LMS answered 500 (one in another course, one in another queue)."""
    lms_server.fault_for = FaultPlan(failures=1000, fault=HTTP_500)
    with bridge_settings(DELIVERY_RETRY={**FAST_RETRY, "max_attempts": 1}, NOTIFY_LEARNER_ON_FAILURE=False):
        first = queue.submit()
        queue.reply(queue.pull(), REPLY)
        other_queue = type(queue)(lms_server, queue_name="other-queue")
        second = other_queue.submit()
        other_queue.reply(other_queue.pull(), REPLY)
        url = lms_server.callback_url(course_id=OTHER_COURSE, user_id=99, block="q9")
        lms_server.expect("lms-key-other-course")
        third, _ = api.submit(parse_submit({
            "xqueue_header": make_header(url, "lms-key-other-course", "test-pull"),
            "xqueue_body": make_body("answer", "anon-99"),
        }))
        queue.reply(queue.pull(), REPLY)
    lms_server.fault_for = lambda key: Fault()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"dead"}
    return {d.submission_id: d for d in Delivery.objects.all()}, (first, second, third)


def test_deliveries_lists_the_dead_ones_with_their_reason(dead):
    deliveries, _ = dead
    table = run("deliveries", "--status", "dead")
    assert table.splitlines()[0].split()[:3] == ["id", "submission", "course"]
    assert len(table.splitlines()) == 4
    assert table.count("LMS answered HTTP 500") == 3

    rows = json.loads(run("deliveries", "--status", "dead", "--format", "json"))
    assert {row["id"] for row in rows} == {d.pk for d in deliveries.values()}
    assert {(row["status"], row["last_error"], row["replay"]) for row in rows} == {
        ("dead", "LMS answered HTTP 500", "will be delivered again")
    }
    assert run("deliveries", "--status", "delivered") == "no deliveries\n"


@pytest.mark.slow
def test_the_command_line_lists_dead_deliveries_as_a_real_process(dead):
    listed = subprocess.run(
        [sys.executable, "-m", "xqueue_bridge", "deliveries", "--status", "dead", "--format", "json"],
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "tests.support.process_settings",
             "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url(),
             "XQUEUE_BRIDGE_HOME": os.environ["XQUEUE_BRIDGE_HOME"]},
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 3


def test_replay_dry_run_lists_and_changes_nothing(dead, lms_server):
    output = run("replay", "--course", OTHER_COURSE, "--dry-run")
    assert "1 deliveries would be replayed (dry run: nothing changed)" in output
    assert OTHER_COURSE in output and "will be delivered again" in output
    assert set(Delivery.objects.values_list("status", flat=True)) == {"dead"}
    assert lms_server.applied_keys() == set()


def test_replay_by_id_queues_only_that_delivery_and_it_is_delivered(dead, lms_server):
    deliveries, (first, second, third) = dead
    chosen = deliveries[first.pk]
    output = run("replay", "--id", str(chosen.pk), "--by", "ops")
    assert output.endswith("1 deliveries queued again\n")
    chosen.refresh_from_db()
    assert (chosen.status, chosen.attempts) == ("delivered", 1)
    assert chosen.last_error == ""
    assert lms_server.applied_keys() == {first.lms_key}
    assert Delivery.objects.filter(status="dead").count() == 2


def test_replay_by_queue_and_by_course(dead, lms_server):
    _, (first, second, third) = dead
    assert run("replay", "--queue", "other-queue").endswith("1 deliveries queued again\n")
    assert lms_server.applied_keys() == {second.lms_key}
    assert run("replay", "--course", OTHER_COURSE).endswith("1 deliveries queued again\n")
    assert lms_server.applied_keys() == {second.lms_key, third.lms_key}


def test_replay_by_time_range_reads_a_time_without_offset_as_utc(dead, lms_server):
    deliveries, (first, second, third) = dead
    old = timezone.now() - timedelta(days=3)
    Delivery.objects.filter(pk=deliveries[first.pk].pk).update(created_at=old)
    since = (old - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")  # no offset: UTC
    until = (old + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    output = run("replay", "--since", since, "--until", until)
    assert output.endswith("1 deliveries queued again\n")
    assert lms_server.applied_keys() == {first.lms_key}


def test_replay_needs_a_selection_and_a_readable_time(dead):
    with pytest.raises(CommandError, match="Say which deliveries"):
        run("replay")
    with pytest.raises(CommandError, match="is not a date and time"):
        run("replay", "--since", "yesterday")
    with pytest.raises(CommandError, match="is not a date and time"):
        run("replay", "--since", "2026-13-45T99:00:00")


def test_a_replayed_delivery_gets_a_fresh_budget_of_attempts_and_age(dead, lms_server):
    deliveries, (first, _, _) = dead
    chosen = deliveries[first.pk]
    two_days_ago = timezone.now() - timedelta(days=2)
    Delivery.objects.filter(pk=chosen.pk).update(created_at=two_days_ago, budget_started_at=two_days_ago)
    lms_server.fault_for = FaultPlan(failures=1, fault=HTTP_500)
    with bridge_settings(DELIVERY_RETRY={**FAST_RETRY, "max_age": 24 * 3600}):
        run("replay", "--id", str(chosen.pk))
        chosen.refresh_from_db()
        assert (chosen.status, chosen.attempts) == ("pending", 1)  # failed once, and not given up for its age
        Delivery.objects.filter(pk=chosen.pk).update(next_attempt_at=timezone.now())
        runners.drain()
    chosen.refresh_from_db()
    assert (chosen.status, chosen.attempts) == ("delivered", 2)
    assert chosen.created_at == two_days_ago  # still selectable by when the result came in


def test_replaying_after_the_failure_notice_reached_the_learner_says_the_lms_no_longer_waits(queue, lms_server):
    lms_server.fault_for = FaultPlan(failures=1, fault=HTTP_500)
    with bridge_settings(DELIVERY_RETRY={**FAST_RETRY, "max_attempts": 1}):
        submission = queue.submit()
        queue.reply(queue.pull(), REPLY)
    assert Delivery.objects.get(kind="failure_notice").status == "delivered"
    output = run("replay", "--id", str(Delivery.objects.get(kind="result").pk), "--dry-run")
    assert "a failure notice already reached the learner: the LMS no longer waits for this key" in output
    run("replay", "--id", str(Delivery.objects.get(kind="result").pk))
    assert len(lms_server.updates[submission.lms_key]) == 1  # the LMS keeps the notice: the key was used


def test_a_dead_result_replayed_after_the_learner_submitted_again_is_withdrawn_not_sent(queue, lms_server):
    lms_server.fault_for = FaultPlan(failures=1, fault=HTTP_500)
    with bridge_settings(DELIVERY_RETRY={**FAST_RETRY, "max_attempts": 1}, NOTIFY_LEARNER_ON_FAILURE=False):
        older = queue.submit(user_id=52, block="again")
        queue.reply(queue.pull(), REPLY)
        result = Delivery.objects.get(submission=older)
        assert (result.status, result.last_error) == ("dead", "LMS answered HTTP 500")
        newer = queue.submit(user_id=52, block="again")  # the same problem, submitted again
        assert "it will be withdrawn, not delivered" in run("replay", "--id", str(result.pk), "--dry-run")
        run("replay", "--id", str(result.pk))
    result.refresh_from_db()
    assert result.status == "withdrawn"
    assert result.last_error.startswith("withdrawn: the learner submitted again before it was delivered (last")
    assert lms_server.callbacks_per_key()[older.lms_key] == 1  # the failed attempt before the replay only
    assert newer.status == "queued" and lms_server.updates == {}


def test_replaying_a_result_withdraws_its_undelivered_notice_so_the_grade_reaches_the_learner(queue, lms_server):
    lms_server.fault_for = FaultPlan(failures=1000, fault=HTTP_500)  # the LMS is down: result and notice die
    with bridge_settings(DELIVERY_RETRY={**FAST_RETRY, "max_attempts": 1}):
        submission = queue.submit()
        queue.reply(queue.pull(), REPLY)
    assert dict(Delivery.objects.values_list("kind", "status")) == {"result": "dead", "failure_notice": "dead"}
    lms_server.fault_for = lambda key: Fault()  # back up: replay everything of the course
    output = run("replay", "--course", submission.course_id)
    assert "1 deliveries queued again" in output  # the result only: notices are replayed by id alone
    notice = Delivery.objects.get(kind="failure_notice")
    assert notice.status == "withdrawn" and notice.last_error.startswith("withdrawn: the result was replayed")
    assert Delivery.objects.get(kind="result").status == "delivered"
    assert lms_server.updates[submission.lms_key] == [json.dumps(REPLY)]  # the grade, not the notice


@pytest.fixture
def staff(transactional_db):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "ops-password")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_the_admin_lists_dead_deliveries_and_replays_the_selected_ones(dead, staff, lms_server):
    deliveries, (first, _, _) = dead
    listing = staff.get("/admin/xqueue_bridge/delivery/", {"status__exact": "dead"})
    assert listing.status_code == 200
    page = listing.content.decode()
    assert page.count("LMS answered HTTP 500") == 3

    chosen = deliveries[first.pk]
    form = {"action": "replay_selected", "_selected_action": [str(chosen.pk)]}
    assert staff.post("/admin/xqueue_bridge/delivery/", form).status_code == 403  # no CSRF token
    assert Delivery.objects.get(pk=chosen.pk).status == "dead"

    token = staff.cookies["csrftoken"].value  # set by the change list, whose action form carries the token
    replayed = staff.post("/admin/xqueue_bridge/delivery/", {**form, "csrfmiddlewaretoken": token}, follow=True)
    assert "1 deliveries queued again" in replayed.content.decode()
    assert Delivery.objects.get(pk=chosen.pk).status == "delivered"
    assert lms_server.applied_keys() == {first.lms_key}


def test_the_admin_never_shows_a_queue_key_or_pullkey(staff, queue, stage):
    stage("event")
    submission = queue.submit()
    queue.reply(queue.pull(), REPLY)
    submission.refresh_from_db()
    delivery = Delivery.objects.get()
    pages = [
        staff.get(f"/admin/xqueue_bridge/submission/{submission.pk}/change/"),
        staff.get(f"/admin/xqueue_bridge/delivery/{delivery.pk}/change/"),
        staff.get("/admin/xqueue_bridge/submission/"),
        staff.get("/admin/xqueue_bridge/delivery/"),
    ]
    assert [page.status_code for page in pages] == [200] * 4
    for page in pages:
        text = page.content.decode()
        assert submission.lms_key not in text and submission.pullkey not in text
    assert "[redacted]" in pages[0].content.decode() and "[redacted]" in pages[1].content.decode()
