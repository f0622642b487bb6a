"""
Grading throughput of ``xqueue-bridge serve`` on the embedded default, one and four graders.

Starts the bridge as operators do (gunicorn, 2 workers x 8 threads, SQLite in WAL mode, deliveries in
a thread pool after commit) in a temporary home, then for each stage (callback, event) and each number of
graders: the LMS submits N answers over HTTP (the learner's problem recorded in the standalone sink
first), G watcher-like graders pull and reply over HTTP until the queue is empty, and the bench waits
until every result has reached the learner. It reports results per second (first pull to last learner
update), put_result latency (p50, p99), and checks that each learner was updated exactly once.

Writes ``bench/results/throughput.json``. Run: ``python -m bench.throughput [N]``.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "throughput.json"
QUEUE = "bench"
STAGES = ("callback", "event")
GRADERS = (1, 4)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main(n: int | None = None) -> dict:
    n = n or (int(sys.argv[1]) if len(sys.argv) > 1 else 400)
    home = Path(tempfile.mkdtemp(prefix="xqb-bench-throughput-"))
    env = {**os.environ, "XQUEUE_BRIDGE_HOME": str(home), "XQUEUE_BRIDGE_QUEUES": QUEUE,
           "XQUEUE_BRIDGE_DELIVERY_MODE": "thread", "XQUEUE_BRIDGE_LOG_LEVEL": "WARNING",
           "XQUEUE_BRIDGE_FLAG_CACHE_TTL": "0", "DJANGO_SETTINGS_MODULE": "xqueue_bridge.runtime.settings"}
    env.pop("DATABASE_URL", None)
    os.environ.update({k: v for k, v in env.items() if k.startswith(("XQUEUE_BRIDGE", "DJANGO"))})
    os.environ.pop("DATABASE_URL", None)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import close_old_connections

    from xqueue_bridge.accounts import ensure_user
    from xqueue_bridge.keys import quote_slashes
    from xqueue_bridge.runtime.clients import GraderClient, LmsClient, make_body, make_header
    from xqueue_bridge.runtime.process import ServeProcess
    from xqueue_bridge.sink import learners
    from xqueue_bridge.sink.models import LearnerUpdate
    from xqueue_bridge.stage import rollout

    call_command("migrate", interactive=False, verbosity=0)
    password = secrets.token_urlsafe(12)
    ensure_user("lms", password, role="lms")
    ensure_user("grader", password, role="grader")
    server = ServeProcess(workers=2, threads=8, env=env).wait_ready()
    base = server.url
    rows = []
    try:
        lms = LmsClient(base, "lms", password)
        for stage in STAGES:
            for graders in GRADERS:
                course = f"course-v1:Bench+{stage.replace('_', '')}{graders}+2026"
                rollout.set_stage(course, stage, reason="benchmark", changed_by="bench")
                for number in range(n):
                    usage = f"block-v1:{course.removeprefix('course-v1:')}+type@problem+block@p{number}"
                    key = secrets.token_hex(16)
                    learners.begin_attempt(course, usage, str(number + 1), f"anon-{number}", key)
                    url = f"{base}/courses/{course}/xqueue/{number + 1}/{quote_slashes(usage)}/score_update"
                    code, content = lms.submit(make_header(url, key, QUEUE), make_body("answer", f"anon-{number}"))
                    assert code == 0, content
                latencies: list[float] = []
                lock = threading.Lock()

                def grade(latencies=latencies, lock=lock):
                    client = GraderClient(base, "grader", password)
                    client.login()
                    while (served := client.get_submission(QUEUE)) is not None:
                        started = time.perf_counter()
                        ok, _ = client.put_result(served["xqueue_header"],
                                                  {"correct": True, "score": 1.0, "msg": "<p>ok</p>"})
                        with lock:
                            latencies.append(time.perf_counter() - started)

                started = time.perf_counter()
                threads = [threading.Thread(target=grade) for _ in range(graders)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                while True:
                    close_old_connections()
                    applied = LearnerUpdate.objects.filter(problem__course_id=course, applied=True).count()
                    if applied >= n or time.perf_counter() - started > 300:
                        break
                    time.sleep(0.02)
                elapsed = time.perf_counter() - started
                updates = LearnerUpdate.objects.filter(problem__course_id=course, applied=True)
                row = {
                    "stage": stage, "graders": graders, "results": n, "seconds": round(elapsed, 2),
                    "results_per_s": round(n / elapsed, 1),
                    "put_result_p50_ms": round(statistics.median(latencies) * 1000, 1),
                    "put_result_p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
                    "learner_updates": updates.count(),
                    "duplicate_updates": updates.count() - updates.values("problem").distinct().count(),
                }
                rows.append(row)
                print(f"{stage:>9} {graders} grader(s): {row['results_per_s']:7.1f} results/s, put_result p50 "
                      f"{row['put_result_p50_ms']} ms p99 {row['put_result_p99_ms']} ms, "
                      f"{row['learner_updates']}/{n} learners updated, {row['duplicate_updates']} duplicates")
    finally:
        server.stop()
    by = {(r["stage"], r["graders"]): r["results_per_s"] for r in rows}
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "server": "xqueue-bridge serve: gunicorn 2 workers x 8 threads, SQLite WAL, deliveries after commit",
        "rows": rows,
        "ratios": {f"{stage}: 4 graders / 1 grader": round(by[(stage, 4)] / by[(stage, 1)], 2) for stage in STAGES}
        | {f"event / callback, {g} grader(s)": round(by[("event", g)] / by[("callback", g)], 2) for g in GRADERS},
    }
    for name, value in report["ratios"].items():
        print(f"  {name}: {value}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
