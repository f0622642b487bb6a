"""
Warm decisions run no query; a change reaches the writing process on commit and every other process
within CACHE_TTL seconds; a rolled-back change is never served.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction
from waffle.testutils import override_flag

from toggles import api
from toggles.conf import DEFAULTS
from toggles.testutils import reset_course_flags
from xqueue_bridge.flags import EVENT_DELIVERY
from xqueue_bridge.stage import rollout
from xqueue_bridge.stage.decide import decide_stage

ROOT = Path(__file__).resolve().parents[2]
COURSE = "course-v1:edX+Physics+2026"
WHO = {"changed_by": "ops-alice", "reason": "pilot"}
# These tests are about the cache, not the stage guard: each change is a known, deliberate one.
MOVE = {**WHO, "force": True, "allow_unseen": True}


@pytest.mark.django_db(transaction=True)
def test_warm_decisions_run_no_query_on_any_layer(clock, pilot, fresh_cache, django_assert_num_queries):
    api.set_course_override(pilot, COURSE, "on", **WHO)
    api.set_org_override(pilot, "MITx", "on", **WHO)
    api.set_percentage(pilot, 50, **WHO)
    courses = [COURSE, "course-v1:MITx+6.00x+2026"] + [f"course-v1:Org+C{i}+1" for i in range(50)]
    pilot.evaluate(COURSE)  # warm up
    with django_assert_num_queries(0):
        decisions = [pilot.evaluate(course) for course in courses for _ in range(3)]
    assert {decision.source for decision in decisions} == {"course", "org", "percentage", "global"}


@pytest.mark.django_db(transaction=True)
def test_warm_stage_decisions_run_no_query(clock, fresh_cache, django_assert_num_queries):
    rollout.set_stage(COURSE, "shadow_event", **MOVE)
    decide_stage(COURSE)
    with django_assert_num_queries(0):
        for i in range(100):
            decide_stage(COURSE if i % 2 else f"course-v1:Org+C{i}+1")


@pytest.mark.django_db(transaction=True)
def test_a_cold_process_loads_with_a_few_queries(clock, pilot, fresh_cache, django_assert_max_num_queries):
    with django_assert_max_num_queries(7):  # stamp (4) + overrides and percentage (3)
        pilot.evaluate(COURSE)


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_is_in_effect_at_once_in_the_writing_process(clock, fresh_cache):
    assert decide_stage(COURSE).stage == "callback"
    rollout.set_stage(COURSE, "event", **MOVE)
    assert decide_stage(COURSE).stage == "event"  # the clock has not moved: the commit invalidated


@pytest.mark.django_db(transaction=True)
def test_the_writing_transaction_reads_its_change_and_a_rollback_undoes_it(clock, fresh_cache):
    assert decide_stage(COURSE).stage == "callback"

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        rollout.set_stage(COURSE, "event", **MOVE)
        assert decide_stage(COURSE).stage == "event"
        raise Abort
    assert decide_stage(COURSE).stage == "callback"


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_is_not_served(clock, fresh_cache):
    with transaction.atomic():
        rollout.set_stage(COURSE, "shadow_callback", **MOVE)
        try:
            with transaction.atomic():
                rollout.set_stage(COURSE, "event", **MOVE)
                assert decide_stage(COURSE).stage == "event"
                raise RuntimeError("undo the inner change")
        except RuntimeError:
            pass
        assert decide_stage(COURSE).stage == "shadow_callback"
    assert decide_stage(COURSE).stage == "shadow_callback"


@pytest.mark.django_db(transaction=True)
def test_a_change_to_the_waffle_flag_is_seen_on_commit(clock, fresh_cache):
    assert EVENT_DELIVERY.is_enabled(COURSE) is False
    with override_flag(EVENT_DELIVERY.name, active=True):
        assert EVENT_DELIVERY.is_enabled(COURSE) is True
    assert EVENT_DELIVERY.is_enabled(COURSE) is False


@pytest.mark.django_db(transaction=True)
def test_a_change_made_behind_the_cache_is_seen_after_the_ttl(clock, pilot, fresh_cache, settings):
    settings.TOGGLES = {"CACHE_TTL": 30}
    assert pilot.is_enabled(COURSE) is False
    # bulk_create keeps the invalidation; a raw insert (another program) does not, so only the TTL helps.
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO toggles_courseoverride"
            " (flag_name, changed_by, changed_at, reason, course_id, value) VALUES (%s, %s, %s, %s, %s, %s)",
            [pilot.name, "dba", "2026-11-25 10:00:00", "by hand", COURSE, "on"],
        )
    clock.advance(29)
    assert pilot.is_enabled(COURSE) is False
    clock.advance(1)
    assert pilot.is_enabled(COURSE) is True


def test_the_default_ttl_is_a_few_seconds():
    assert DEFAULTS["CACHE_TTL"] == 5.0


class Child:
    """Another bridge process on the same test database."""

    def __init__(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "XQUEUE_BRIDGE_HOME": str(settings.HOME),
            "XQUEUE_BRIDGE_TEST_DB": settings.BACKEND,
            "XQB_CHILD_DB_NAME": str(connection.settings_dict["NAME"]),
            "PYTHONPATH": str(ROOT),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.toggles.child"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the child process ended (exit code {self.process.poll()})"
        return json.loads(line)

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


@pytest.fixture
def child():
    process = Child()
    yield process
    process.close()


@pytest.mark.django_db(transaction=True)
def test_a_change_reaches_another_process_within_the_ttl(clock, fresh_cache, child):
    rollout.set_stage(COURSE, "shadow_callback", **MOVE)

    first = child.ask(op="stage", course=COURSE)
    assert first["stage"] == "shadow_callback" and first["queries"] > 0
    assert child.ask(op="stage", course=COURSE) == {**first, "queries": 0}  # warm

    rollout.set_stage(COURSE, "event", changed_by="ops-alice", reason="next stage", force=True, allow_unseen=True)
    within_ttl = child.ask(op="stage", course=COURSE)
    assert within_ttl == {**first, "queries": 0}  # answered from its snapshot: the bound is the TTL

    child.ask(op="advance", seconds=DEFAULTS["CACHE_TTL"])
    after_ttl = child.ask(op="stage", course=COURSE)
    assert after_ttl["stage"] == "event"
    assert after_ttl["reason"].endswith(": next stage")
    assert child.ask(op="stage", course=COURSE)["queries"] == 0  # warm again


@pytest.mark.django_db(transaction=True)
def test_a_change_made_by_another_process_reaches_this_one_within_the_ttl(
    clock, fresh_cache, child, django_assert_num_queries
):
    assert decide_stage(COURSE).stage == "callback"
    assert child.ask(op="set_stage", target="edX", stage="shadow_event", reason="whole org", by="ops-bob")

    with django_assert_num_queries(0):
        assert decide_stage(COURSE).stage == "callback"  # within the TTL: this process's snapshot

    clock.advance(DEFAULTS["CACHE_TTL"])
    decision = decide_stage(COURSE)
    assert decision.stage == "shadow_event"
    assert decision.reason.startswith("org override by ops-bob ")


@pytest.mark.django_db(transaction=True)
def test_after_a_change_only_the_new_rows_are_read(clock, fresh_cache, django_assert_num_queries):
    for i in range(30):
        rollout.set_stage(f"course-v1:Org+C{i}+1", "shadow_event", **MOVE)
    rollout.set_stage("edX", "shadow_callback", **MOVE)
    reset_course_flags()  # the stage guard read the flags while writing: start this process cold again
    with django_assert_num_queries(10):  # cold: the stamp (4), then each flag's rows and percentage (3 + 3)
        decide_stage(COURSE)
    rollout.set_stage(COURSE, "event", changed_by="ops-alice", reason="early", force=True, allow_unseen=True)
    with django_assert_num_queries(5):  # the stamp (4) and the two rows added since (1)
        decision = decide_stage(COURSE)
    assert decision.stage == "event"
    assert decide_stage("course-v1:Org+C3+1").stage == "shadow_event"
    assert decide_stage("course-v1:edX+Chemistry+1").stage == "shadow_callback"


@pytest.mark.django_db(transaction=True)
def test_a_row_committed_out_of_id_order_is_not_missed(clock, pilot, fresh_cache):
    from toggles.models import CourseOverride

    def row(pk, course, value):
        return CourseOverride(
            id=pk, flag_name=pilot.name, course_id=course, value=value, changed_by="ops", reason="order"
        )

    row(100, "course-v1:A+One+1", "on").save()
    row(200, "course-v1:A+Two+1", "on").save()
    assert pilot.is_enabled("course-v1:A+Three+1") is False
    # A transaction that took id 150 before id 200 was taken, committing after it: a read of ids above
    # the newest one seen would miss it; the row count shows it arrived.
    row(150, "course-v1:A+Three+1", "on").save()
    assert pilot.is_enabled("course-v1:A+Three+1") is True
    assert pilot.is_enabled("course-v1:A+One+1") is True
