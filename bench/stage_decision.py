"""
The stage decision, warm, against plain waffle measured in the same run.

Sets up a throwaway SQLite database (the standalone settings in a temporary home), writes 10,000 course
stages and 100 org stages (both flags each: 20,000 + 200 override rows) and a 20 % percentage, then
measures, interleaved over several rounds:

* ``decide_stage(course_id)``: the bridge's stage decision (two course flags) from the string the intake
  has;
* ``decide_stage(CourseKey)`` and ``CourseFlag.evaluate(course_id)`` (one flag);
* ``waffle.flag_is_active(request, name)`` for a flag set to "Everyone: Yes" (waffle's shortest path) and
  for a flag with a 20 % roll (per-request), both with waffle's cache warm.

Courses cycle over every layer: a course override, an org override, the percentage, the global default.
Prints a table and writes ``bench/results/stage_decision.json``. Run: ``python -m bench.stage_decision``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

COURSES = 10_000
ORGS = 100
DECISIONS_PER_ROUND = 20_000
ROUNDS = 7
EVERYONE = "bench.everyone"  # plain waffle flags of the baselines
PERCENT = "bench.percent"
RESULTS = Path(__file__).resolve().parent / "results" / "stage_decision.json"


def setup_django(home: Path) -> None:
    os.environ["XQUEUE_BRIDGE_HOME"] = str(home)
    os.environ["DATABASE_URL"] = f"sqlite:///{home / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "xqueue_bridge.runtime.settings"
    os.environ.setdefault("XQUEUE_BRIDGE_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", run_syncdb=True, verbosity=0)


def populate() -> list[str]:
    """Write the overrides; return the course ids the decisions cycle over (a quarter per layer)."""
    from django.db import transaction
    from waffle import get_waffle_flag_model

    from toggles.models import CourseOverride, OrgOverride
    from xqueue_bridge.flags import EVENT_DELIVERY, SHADOW_COMPARE
    from xqueue_bridge.stage import rollout
    from xqueue_bridge.stage.decide import FLAGS_OF_STAGE

    stages = list(FLAGS_OF_STAGE)
    who = {"changed_by": "bench", "reason": "benchmark"}
    course_rows, org_rows = [], []
    for i in range(COURSES):
        event, shadow = FLAGS_OF_STAGE[stages[i % 4]]
        for flag, on in ((EVENT_DELIVERY, event), (SHADOW_COMPARE, shadow)):
            value = "on" if on else "off"
            course_id = f"course-v1:Override{i % 50}+C{i}+2026"
            course_rows.append(CourseOverride(flag_name=flag.name, course_id=course_id, value=value, **who))
    for i in range(ORGS):
        event, shadow = FLAGS_OF_STAGE[stages[i % 4]]
        for flag, on in ((EVENT_DELIVERY, event), (SHADOW_COMPARE, shadow)):
            value = "on" if on else "off"
            org_rows.append(OrgOverride(flag_name=flag.name, org=f"Org{i}", value=value, **who))
    with transaction.atomic():
        CourseOverride.objects.bulk_create(course_rows, batch_size=1000)
        OrgOverride.objects.bulk_create(org_rows, batch_size=1000)
    rollout.set_percentage("event_delivery", 20, **who)
    flags = get_waffle_flag_model().objects
    flags.create(name=EVERYONE, everyone=True)
    flags.create(name=PERCENT, everyone=None, percent=20)

    with_course_override = [f"course-v1:Override{i % 50}+C{i}+2026" for i in range(0, COURSES, 10)]
    with_org_override = [f"course-v1:Org{i % ORGS}+Org{i}+2026" for i in range(1000)]
    elsewhere = [f"course-v1:Plain{i % 37}+P{i}+2026" for i in range(2000)]
    mixed = []
    for i in range(2000):
        mixed += [with_course_override[i % 1000], with_org_override[i % 1000], elsewhere[i]]
    return mixed


class QueryCounter:
    """Counts every query the default connection runs while installed."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def cold_costs(course_ids: list[str]) -> dict:
    """What a cold process pays once, and what a process pays after one change (the rows since are read)."""
    from django.db import connection

    from toggles import cache
    from xqueue_bridge.stage import rollout
    from xqueue_bridge.stage.decide import decide_stage

    def timed(label: str) -> None:
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            start = time.perf_counter()
            decide_stage(course_ids[0])
            elapsed = time.perf_counter() - start
        out[label] = {"milliseconds": round(elapsed * 1000, 2), "queries": counter.count}

    out: dict = {}
    cache.clear()
    timed("cold_first_decision")
    rollout.set_stage(course_ids[0], "shadow_event", reason="benchmark change", changed_by="bench",
                      force=True, allow_unseen=True)
    timed("first_decision_after_one_change")
    return out


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="xqb-bench-") as home:
        setup_django(Path(home))
        import django
        import waffle
        from django.contrib.auth.models import AnonymousUser
        from django.test import RequestFactory
        from opaque_keys.edx.keys import CourseKey

        from xqueue_bridge.flags import EVENT_DELIVERY
        from xqueue_bridge.stage.decide import decide_stage

        course_ids = populate()
        course_keys = [CourseKey.from_string(course_id) for course_id in course_ids]
        request = RequestFactory().get("/")
        request.user = AnonymousUser()

        candidates = {
            "decide_stage(course_id str)": decide_stage,
            "decide_stage(CourseKey)": decide_stage,
            "CourseFlag.evaluate(course_id str)": EVENT_DELIVERY.evaluate,
            "waffle.flag_is_active, Everyone: Yes": lambda _: waffle.flag_is_active(request, EVERYONE),
            "waffle.flag_is_active, 20% roll": lambda _: waffle.flag_is_active(request, PERCENT),
        }
        inputs = {name: course_keys if "CourseKey" in name else course_ids for name in candidates}
        results = measure(candidates, inputs)
        baseline = results["waffle.flag_is_active, Everyone: Yes"]["decisions_per_second"]
        for row in results.values():
            row["vs_waffle_everyone"] = round(row["decisions_per_second"] / baseline, 2)
        cold = cold_costs(course_ids)

    report = {
        "benchmark": "stage decision, warm, against plain waffle in the same run",
        "setup": {
            "database": "SQLite (throwaway, standalone settings)",
            "course_stages": COURSES,
            "org_stages": ORGS,
            "course_override_rows": COURSES * 2,
            "org_override_rows": ORGS * 2,
            "event_delivery_percentage": 20,
            "inputs": "course ids cycling over course override, org override and neither (percentage/global)",
            "rounds": ROUNDS,
            "decisions_per_round": DECISIONS_PER_ROUND,
            "statistic": "median round",
        },
        "environment": {
            "python": platform.python_version(),
            "django": django.get_version(),
            "waffle": waffle.__version__,
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
        },
        "results": results,
        "cold": cold,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report)
    return 0


def measure(candidates: dict, inputs: dict) -> dict:
    """
    Warm every candidate on all its inputs, then time ``ROUNDS`` rounds in which each candidate makes
    ``DECISIONS_PER_ROUND`` decisions in turn (interleaved, so drift hits all alike), counting queries.
    """
    wrapped = {name: (call, inputs[name]) for name, call in candidates.items()}
    from django.db import connection

    timings: dict[str, list[float]] = {name: [] for name in wrapped}
    queries: dict[str, int] = dict.fromkeys(wrapped, 0)
    for call, values in wrapped.values():  # warm up: every input once
        for value in values:
            call(value)
    for _ in range(ROUNDS):
        for name, (call, values) in wrapped.items():
            n = len(values)
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                start = time.perf_counter()
                for i in range(DECISIONS_PER_ROUND):
                    call(values[i % n])
                elapsed = time.perf_counter() - start
            timings[name].append(elapsed)
            queries[name] += counter.count
    results = {}
    for name in wrapped:
        median = statistics.median(timings[name])
        results[name] = {
            "decisions_per_second": round(DECISIONS_PER_ROUND / median),
            "microseconds_per_decision": round(median / DECISIONS_PER_ROUND * 1e6, 3),
            "queries_per_decision": queries[name] / (DECISIONS_PER_ROUND * ROUNDS),
            "decisions_measured": DECISIONS_PER_ROUND * ROUNDS,
        }
    return results


def print_table(report: dict) -> None:
    rows = report["results"]
    width = max(len(name) for name in rows)
    setup = report["setup"]
    print(
        f"\nStage decision, warm ({setup['course_stages']:,} course and {setup['org_stages']} org stages; "
        f"median of {ROUNDS} rounds of {DECISIONS_PER_ROUND:,})\n"
    )
    header = ("decisions/s", "µs/decision", "queries/decision", "× waffle")
    print(f"{'candidate'.ljust(width)}  {header[0]:>12}  {header[1]:>11}  {header[2]:>16}  {header[3]:>8}")
    for name, row in rows.items():
        rate, micro = row["decisions_per_second"], row["microseconds_per_decision"]
        queries, ratio = row["queries_per_decision"], row["vs_waffle_everyone"]
        print(f"{name.ljust(width)}  {rate:>12,}  {micro:>11.3f}  {queries:>16.6f}  {ratio:>8.2f}")
    print()
    for label, cost in report["cold"].items():
        print(f"{label.replace('_', ' ')}: {cost['milliseconds']} ms, {cost['queries']} queries")
    print(f"\nwritten: {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
