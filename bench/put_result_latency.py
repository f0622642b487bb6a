"""
put_result latency with shadow mode on and off, side by side in one run.

What a grader waits for: the round trip of ``/xqueue/put_result/`` from a watcher-like client
(``xqueue_bridge.runtime.clients.GraderClient``) to ``xqueue-bridge serve`` (gunicorn, 2 workers x 4 threads,
DELIVERY_MODE "thread", the default) on loopback, with a throwaway SQLite home. Stages:

* ``callback`` against ``shadow_callback`` (callback authoritative; the event path compared in shadow);
* ``event`` against ``shadow_event`` (event authoritative; the callback compared in shadow).

Each stage has its own course (set with the rollout API) and queue; ``--per-stage`` submissions per stage
are submitted first, each for a learner whose problem the bridge's own sink holds (the callback goes to
the bridge's own ``xqueue_callback`` URL, the event to its own receiver, so every result is delivered for
real and every shadow result compared at a sample rate of 1). Then, round after round, the stages take
turns in a shuffled order, in two modes:

* ``isolated``: pull one submission (not timed), time its put_result, and wait until its delivery and
  comparison are finished, so that each request is measured alone, with the bridge idle;
* ``sustained``: a block of ``--block`` pulls and put_results back to back in one stage, as a watcher
  with a queue full of quick gradings sends them, then wait until the block is delivered and compared, so
  each stage's deliveries and comparisons compete with its own next requests (and never with another
  stage's).

The first ``--warmup`` rounds are not counted. Both modes run in two configurations, one after the
other on the same database: ``thread`` (the embedded default: deliveries and comparisons in threads of
the serve workers) and ``worker`` (DELIVERY_MODE "worker": they run in ``xqueue-bridge worker`` at the
lowest CPU priority, the production advice of the README). ``BENCH_DATABASE_URL`` runs it on another
database than the throwaway SQLite.

Prints p50 / p99 per stage and the ratios, and writes ``bench/results/put_result_latency.json``.
Run: ``python -m bench.put_result_latency [--per-stage 1000] [--block 25]`` (a few minutes on two cores).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from xqueue_bridge.runtime.process import ServeProcess, free_port

STAGES = ["callback", "shadow_callback", "event", "shadow_event"]
PAIRS = [("shadow_callback", "callback"), ("shadow_event", "event")]
REPLIES = [
    {"correct": True, "score": 1.0, "msg": "<p>4 of 4 tests passed</p>"},
    {"correct": False, "score": 0.5, "msg": "<p>2 of 4 tests passed</p><ul><li>double(-2) failed</li></ul>"},
    {"correct": False, "score": 0.0, "msg": "<p>Error: NameError</p>"},
]
RESULTS = Path(__file__).resolve().parent / "results" / "put_result_latency.json"
WORKERS, THREADS = 2, 4


def course_of(stage: str) -> str:
    return f"course-v1:BenchX+{stage.replace('_', '')}+2026"


def queue_of(stage: str) -> str:
    return f"bench-{stage}"


def setup_django(home: Path) -> dict:
    """Settings for this process and the server's: one SQLite home, the bench queues, quiet logs."""
    env = {
        "XQUEUE_BRIDGE_HOME": str(home),
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{home / 'bench.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "xqueue_bridge.runtime.settings",
        "XQUEUE_BRIDGE_QUEUES": ",".join(queue_of(stage) for stage in STAGES),
        "XQUEUE_BRIDGE_DELIVERY_MODE": "thread",
        "XQUEUE_BRIDGE_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return env


def submit_all(base_url: str, count: int) -> None:
    """``count`` submissions per stage, each for a learner queued in the bridge's own sink."""
    from xqueue_bridge import api, rollout
    from xqueue_bridge.intake.parsing import parse_submit
    from xqueue_bridge.keys import quote_slashes
    from xqueue_bridge.runtime.clients import make_body, make_header
    from xqueue_bridge.sink import learners

    for stage in STAGES:
        course = course_of(stage)
        rollout.set_stage(course, stage, reason="put_result latency benchmark", changed_by="bench",
                          force=True, allow_unseen=True)
        for number in range(count):
            user_id = 1000 + number
            usage_key = f"block-v1:{course.removeprefix('course-v1:')}+type@problem+block@p{number}"
            url = f"{base_url}/courses/{course}/xqueue/{user_id}/{quote_slashes(usage_key)}/score_update"
            anonymous_id, key = f"anon-{stage}-{number}", secrets.token_hex(16)
            learners.begin_attempt(course, usage_key, str(user_id), anonymous_id, key)
            request = parse_submit({
                "xqueue_header": make_header(url, key, queue_of(stage)),
                "xqueue_body": make_body("def double(x):\n    return 2 * x\n", anonymous_id),
            })
            submission, _ = api.submit(request)
            assert submission.stage == stage, (submission.stage, submission.stage_reason)


def settle(submission_id: int, shadowed: bool, timeout: float = 30.0) -> None:
    """Wait until the result is delivered and, in shadow stages, compared (the bridge is idle again)."""
    from django.db import close_old_connections

    from xqueue_bridge.models import Delivery
    from xqueue_bridge.shadow.models import Comparison

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        close_old_connections()
        delivered = Delivery.objects.filter(submission_id=submission_id).exclude(
            status=Delivery.Status.PENDING).exists()
        compared = not shadowed or Comparison.objects.filter(submission_id=submission_id).exists()
        if delivered and compared:
            return
        time.sleep(0.002)
    raise RuntimeError(f"submission {submission_id} was not delivered and compared within {timeout:.0f} s")


def percentile(values: list[float], fraction: float) -> float:
    from xqueue_bridge.shadow.report import percentile as nearest_rank

    return nearest_rank(values, fraction)


def measure(base_url: str, rounds: int, warmup: int, seed: int) -> dict[str, list[float]]:
    from xqueue_bridge.runtime.clients import GraderClient

    grader = GraderClient(base_url, "grader", os.environ["BENCH_GRADER_PASSWORD"])
    if not grader.login():
        raise RuntimeError("the grader could not log in")
    rng = random.Random(seed)
    timings: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for number in range(rounds + warmup):
        order = STAGES[:]
        rng.shuffle(order)
        for stage in order:
            served = grader.get_submission(queue_of(stage))
            if served is None:
                raise RuntimeError(f"queue {queue_of(stage)} ran out in round {number}")
            body = json.dumps(REPLIES[number % len(REPLIES)])
            started = time.perf_counter()
            ok, content = grader.put_result(served["xqueue_header"], body)
            elapsed = time.perf_counter() - started
            if not ok:
                raise RuntimeError(f"put_result refused in stage {stage}: {content}")
            settle(json.loads(served["xqueue_header"])["submission_id"], shadowed=stage.startswith("shadow"))
            if number >= warmup:
                timings[stage].append(elapsed)
    return timings


def measure_sustained(base_url: str, per_stage: int, block: int, seed: int) -> dict[str, list[float]]:
    from xqueue_bridge.runtime.clients import GraderClient

    grader = GraderClient(base_url, "grader", os.environ["BENCH_GRADER_PASSWORD"])
    if not grader.login():
        raise RuntimeError("the grader could not log in")
    rng = random.Random(seed + 1)
    timings: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for number in range(-(-per_stage // block)):
        order = STAGES[:]
        rng.shuffle(order)
        for stage in order:
            sent = []
            for _ in range(min(block, per_stage - len(timings[stage]))):
                served = grader.get_submission(queue_of(stage))
                if served is None:
                    raise RuntimeError(f"queue {queue_of(stage)} ran out in block {number}")
                body = json.dumps(REPLIES[len(timings[stage]) % len(REPLIES)])
                started = time.perf_counter()
                ok, content = grader.put_result(served["xqueue_header"], body)
                timings[stage].append(time.perf_counter() - started)
                if not ok:
                    raise RuntimeError(f"put_result refused in stage {stage}: {content}")
                sent.append(json.loads(served["xqueue_header"])["submission_id"])
            for submission_id in sent:
                settle(submission_id, shadowed=stage.startswith("shadow"))
    return timings


def summarize(timings: dict[str, list[float]]) -> dict:
    stages = {
        stage: {
            "requests": len(values),
            "p50_ms": round(percentile(values, 0.50) * 1000, 3),
            "p99_ms": round(percentile(values, 0.99) * 1000, 3),
            "mean_ms": round(sum(values) / len(values) * 1000, 3),
        }
        for stage, values in timings.items()
    }
    ratios = {
        f"{shadow} / {plain}": {
            "p50": round(stages[shadow]["p50_ms"] / stages[plain]["p50_ms"], 3),
            "p99": round(stages[shadow]["p99_ms"] / stages[plain]["p99_ms"], 3),
        }
        for shadow, plain in PAIRS
    }
    return {"stages": stages, "ratios": ratios}


def check_comparisons() -> dict:
    """How the shadow comparisons of the run came out (they must all be decided, none errored)."""
    from django.db.models import Count

    from xqueue_bridge.shadow.models import Comparison

    return {
        f"{row['stage']} {row['status']}": row["n"]
        for row in Comparison.objects.values("stage", "status").annotate(n=Count("id")).order_by("stage", "status")
    }


# Where deliveries and comparisons run: in threads of the serve process (the embedded default), or in an
# ``xqueue-bridge worker`` process at the lowest CPU priority (what the README advises for production).
CONFIGURATIONS = {"thread": False, "worker": True}


def run_configuration(port: int, worker: bool, args) -> dict:
    """Serve (and, for the worker configuration, a worker) on the shared database; measure both modes."""
    mode = {"XQUEUE_BRIDGE_DELIVERY_MODE": "worker" if worker else "thread"}
    server = ServeProcess(port, workers=WORKERS, threads=THREADS, env=mode, options=("--no-drainer",) if worker else ())
    drainer = None
    if worker:
        drainer = subprocess.Popen(
            ["nice", "-n", "19", sys.executable, "-m", "xqueue_bridge", "worker", "--poll-interval", "0.01"],
            env={**os.environ, **mode}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    try:
        server.wait_ready()
        return {
            "isolated": summarize(measure(server.url, args.per_stage, args.warmup, args.seed)),
            "sustained": summarize(measure_sustained(server.url, args.per_stage, args.block, args.seed)),
        }
    finally:
        server.stop()
        if drainer is not None:
            drainer.terminate()
            drainer.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--per-stage", type=int, default=1000, help="measured put_result requests per stage")
    parser.add_argument("--warmup", type=int, default=20, help="rounds not counted (default 20)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the stage order of each round")
    parser.add_argument("--block", type=int, default=25, help="back-to-back requests per block (sustained)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="xqb-bench-put-result-") as home:
        setup_django(Path(home))
        import django

        from xqueue_bridge.accounts import ensure_user

        password = secrets.token_urlsafe(12)
        os.environ["BENCH_GRADER_PASSWORD"] = password
        ensure_user("grader", password, role="grader")
        port = free_port()  # every configuration's server in turn: the callback URLs name this port
        submit_all(f"http://127.0.0.1:{port}", len(CONFIGURATIONS) * (2 * args.per_stage + args.warmup))
        results = {name: run_configuration(port, worker, args) for name, worker in CONFIGURATIONS.items()}
        comparisons = check_comparisons()

    report = {
        "benchmark": "put_result round trip, shadow stages against their plain stages, interleaved in one run",
        "setup": {
            "server": f"xqueue-bridge serve: gunicorn, {WORKERS} workers x {THREADS} threads, loopback",
            "database": "SQLite in WAL mode (throwaway home, standalone settings)",
            "configurations": {
                "thread": "DELIVERY_MODE thread: deliveries and comparisons in threads of the serve workers",
                "worker": "DELIVERY_MODE worker: deliveries and comparisons in `nice -n 19 xqueue-bridge worker`",
            },
            "receiving_ends": "the bridge's own callback URL and event receiver (standalone sink)",
            "sample_rate": 1.0,
            "client": "xqueue_bridge.runtime.clients.GraderClient (xqueue-watcher's habits), one request at a time",
            "requests_per_stage": args.per_stage,
            "warmup_rounds": args.warmup,
            "order": "each round: every stage, shuffled; isolated: one request, the bridge idle before each; "
                     f"sustained: {args.block} requests back to back per stage, then the bridge left to settle",
            "statistic": "nearest-rank percentiles of the round-trip time",
        },
        "environment": {
            "python": platform.python_version(),
            "django": django.get_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
        },
        "configurations": results,
        "comparisons": comparisons,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print_table(report, args.out)
    return 0


def print_table(report: dict, path: Path) -> None:
    per_stage = report["setup"]["requests_per_stage"]
    for configuration, modes in report["configurations"].items():
        for mode, summary in modes.items():
            print(f"\nput_result round trip, {configuration} configuration, {mode} ({per_stage} requests per stage)\n")
            print(f"{'stage':<16} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
            for stage in STAGES:
                row = summary["stages"][stage]
                print(f"{stage:<16} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {row['mean_ms']:>8.2f}")
            print()
            for pair, ratio in summary["ratios"].items():
                print(f"{pair:<28} p50 {ratio['p50']:.3f}x   p99 {ratio['p99']:.3f}x")
    print("\ncomparisons: " + ", ".join(f"{key} {n}" for key, n in report["comparisons"].items()))
    print(f"written: {path}")


if __name__ == "__main__":
    sys.exit(main())
