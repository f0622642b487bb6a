"""
A deep queue and a long outbox: the grader's requests flat from a small to a large queue, and a backlog of
pending deliveries drained in memory that does not grow with it.

On SQLite (WAL mode, IMMEDIATE transactions), PostgreSQL and MariaDB, each database a fresh one per
instance (PostgreSQL and MariaDB analysed after the bulk inserts, as their automatic statistics would be):

* **flatness** (``--databases``): two bridges side by side, each ``xqueue-bridge serve`` (gunicorn,
  2 workers x 4 threads, DELIVERY_MODE "worker" without a drainer, so a put_result only writes) on loopback
  with a database of its own, one seeded with ``--small`` queued submissions and one with ``--queued``
  (bulk inserts of the rows ``submit`` writes), each behind ``--history`` graded ones (lower ids: what a
  queue that has been in use holds). A watcher-like grader
  (``xqueue_bridge.runtime.clients.GraderClient``) on each asks ``get_queuelen``, pulls with
  ``get_submission`` and answers with ``put_result``, ``--requests`` times after ``--warmup`` rounds not
  counted, the two bridges taking turns in a shuffled order each round. Reports p50 / p99 of each request
  at both sizes and their ratio (large / small), and the database's plan of the queries a pull runs.
* **drain** (``--drain-databases``): a database holding ``--small-backlog``, then one holding
  ``--backlog`` graded submissions whose callback deliveries are pending (the LMS was down). The LMS comes
  back (a threaded HTTP server on loopback answering every callback with HTTP 200), then
  ``xqueue-bridge worker`` drains the outbox alone. Reports the drain time and rate, and the peak resident
  memory of the worker (``VmHWM`` of ``/proc/<pid>/status``) at both sizes and its ratio; checks that
  every delivery reached the LMS once.

Writes ``bench/results/backlog.json`` and ``backlog.rst`` (the tables). Run: ``make bench-backlog`` (about
8 minutes on two cores), or ``python -m bench.backlog [--queued 100000] [--backlog 30000]
[--databases sqlite,postgresql,mysql] [--drain-databases sqlite]``; the run of record drains
``--backlog 100000 --small-backlog 10000`` (about 10 minutes more on SQLite, at some 200 deliveries/s).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.scale import Control, mariadb_databases, percentile, postgres_databases
from xqueue_bridge.runtime.clients import GraderClient
from xqueue_bridge.runtime.process import ServeProcess

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
QUEUE = "backlog"
REPLY = {"correct": True, "score": 1.0, "msg": "<p>4 of 4 tests passed</p>"}
WORKERS, THREADS = 2, 4
REQUESTS = ("get_queuelen", "get_submission", "put_result")
DRAIN_TIMEOUT = 1800.0  # seconds: a drain not finished by then is reported as it stands


# --- databases and instances -------------------------------------------------------------------------


def database_url(database: str, kind: str, home: Path, args) -> str:
    """A fresh database for one instance (``kind``) of the run."""
    if database == "sqlite":
        return f"sqlite:///{home / (kind + '.sqlite3')}"
    name = f"xqb_bench_backlog_{kind}"
    admin = {"postgresql": args.postgresql_url, "mysql": args.mysql_url}[database]
    (postgres_databases if database == "postgresql" else mariadb_databases)(admin, [name])
    return f"{admin.rsplit('/', 1)[0]}/{name}"


class Instance:
    """One bridge database: its control process and the environment its servers and workers run with."""

    def __init__(self, database: str, kind: str, home: Path, args, password: str):
        base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_SETTINGS", "DATABASE_URL"))}
        base.pop("REDIS_URL", None)
        self.env = {
            **base, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url(database, kind, home, args),
            "XQUEUE_BRIDGE_HOME": str(home / kind), "DJANGO_SETTINGS_MODULE": "xqueue_bridge.runtime.settings",
            "XQUEUE_BRIDGE_QUEUES": QUEUE, "XQUEUE_BRIDGE_LOG_LEVEL": "WARNING",
            "XQUEUE_BRIDGE_DELIVERY_MODE": "worker",
        }
        self.control = Control(sys.executable, "bench.bridge.backlog_control", self.env)
        self.control("setup", username="grader", password=password)

    def stop(self) -> None:
        self.control.stop()


# --- flatness ----------------------------------------------------------------------------------------


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 2)


def run_flatness(database: str, home: Path, args, password: str) -> dict:
    sizes = {"small": args.small, "large": args.queued}
    instances, servers, graders = {}, {}, {}
    try:
        for kind, size in sizes.items():
            instances[kind] = Instance(database, f"queue_{kind}", home, args, password)
            started = time.monotonic()
            length = instances[kind].control("seed_queue", queue=QUEUE, n=size, history=args.history)
            print(f"{database:>10} flatness: {length} queued behind {args.history} graded in "
                  f"{time.monotonic() - started:.1f} s", flush=True)
        for kind, instance in instances.items():
            servers[kind] = ServeProcess(workers=WORKERS, threads=THREADS, env=instance.env, options=("--no-drainer",))
        for kind, server in servers.items():
            server.wait_ready()
            graders[kind] = GraderClient(server.url, "grader", password, timeout=30.0)
            if not graders[kind].login():
                raise RuntimeError(f"the grader could not log in to the {kind} queue's bridge")
        timings = {kind: {name: [] for name in REQUESTS} for kind in sizes}
        rng = random.Random(args.seed)
        for number in range(args.warmup + args.requests):
            order = list(sizes)
            rng.shuffle(order)
            for kind in order:
                grader, seen = graders[kind], {}
                started = time.perf_counter()
                ok, length = grader.get_queuelen(QUEUE)
                seen["get_queuelen"] = time.perf_counter() - started
                started = time.perf_counter()
                served = grader.get_submission(QUEUE)
                seen["get_submission"] = time.perf_counter() - started
                if not ok or served is None:
                    raise RuntimeError(f"the {kind} queue ran out or refused in round {number}: {length}")
                started = time.perf_counter()
                ok, content = grader.put_result(served["xqueue_header"], REPLY)
                seen["put_result"] = time.perf_counter() - started
                if not ok:
                    raise RuntimeError(f"put_result refused on the {kind} queue: {content}")
                if number >= args.warmup:
                    for name, elapsed in seen.items():
                        timings[kind][name].append(elapsed)
        plans = {kind: instance.control("explain", queue=QUEUE) for kind, instance in instances.items()}
    finally:
        for server in servers.values():
            server.stop()
        for instance in instances.values():
            instance.stop()
    requests_ = {}
    for name in REQUESTS:
        row = {}
        for kind in sizes:
            row[f"{kind}_p50_ms"] = ms(percentile(timings[kind][name], 0.5))
            row[f"{kind}_p99_ms"] = ms(percentile(timings[kind][name], 0.99))
        row["ratio_p50"] = round(row["large_p50_ms"] / row["small_p50_ms"], 2)
        row["ratio_p99"] = round(row["large_p99_ms"] / row["small_p99_ms"], 2)
        requests_[name] = row
        print(f"{database:>10} {name:>15}: p50 {row['small_p50_ms']} -> {row['large_p50_ms']} ms "
              f"({row['ratio_p50']}x), p99 {row['small_p99_ms']} -> {row['large_p99_ms']} ms ({row['ratio_p99']}x)",
              flush=True)
    return {"sizes": sizes, "requests": requests_, "pull_plans": plans}


# --- drain -------------------------------------------------------------------------------------------


class LmsStandIn:
    """The LMS's ``xqueue_callback`` on loopback: HTTP 200 to every POST, each callback counted."""

    def __init__(self):
        self.count = 0
        self.headers: set[str] = set()
        self.first_at = self.last_at = None
        lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the LMS's web server does

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    stand_in.count += 1
                    stand_in.headers.add(body.split(b"&", 1)[0].decode("ascii", "replace"))
                    stand_in.last_at = time.monotonic()
                    stand_in.first_at = stand_in.first_at or stand_in.last_at
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, name="lms-stand-in", daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident) of a process, in KiB."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
    return fields


def drain_one(database: str, size: int, home: Path, args, password: str) -> dict:
    instance = Instance(database, f"outbox_{size}", home, args, password)
    lms = LmsStandIn()  # bound now: the pending callbacks name its port; it answers once started
    worker = None
    try:
        started = time.monotonic()
        pending = instance.control("seed_backlog", queue=QUEUE, n=size, lms_root=lms.url)
        seeded_s = time.monotonic() - started
        lms.start()  # the LMS is back
        worker = subprocess.Popen(
            [sys.executable, "-m", "xqueue_bridge", "worker", "--poll-interval", "0.05"], env=instance.env,
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        started = time.monotonic()
        samples, outbox = [], {}
        deadline = started + DRAIN_TIMEOUT
        while time.monotonic() < deadline:
            time.sleep(1.0)
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited ({worker.returncode}) while draining")
            outbox = instance.control("outbox")
            memory = memory_kib(worker.pid)
            samples.append({"s": round(time.monotonic() - started, 1), "pending": outbox.get("pending", 0),
                            "rss_kib": memory["VmRSS"]})
            if not outbox.get("pending"):
                break
        memory = memory_kib(worker.pid)
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=30)
        lms.stop()
        instance.stop()
    seconds = (lms.last_at - lms.first_at) if lms.count > 1 else None
    row = {
        "database": database, "backlog": size, "seeded_pending": pending, "seed_seconds": round(seeded_s, 1),
        "delivered": outbox.get("delivered", 0), "callbacks": lms.count, "distinct_callbacks": len(lms.headers),
        "drain_seconds": round(seconds, 1) if seconds else None,
        "deliveries_per_s": round(lms.count / seconds, 1) if seconds else None,
        "peak_rss_mib": round(memory["VmHWM"] / 1024, 1), "end_rss_mib": round(memory["VmRSS"] / 1024, 1),
        "rss_each_second_mib": [round(sample["rss_kib"] / 1024, 1) for sample in samples],
        "pending_each_second": [sample["pending"] for sample in samples],
    }
    row["exactly_once"] = row["delivered"] == size and row["callbacks"] == size and row["distinct_callbacks"] == size
    print(f"{database:>10} drain {size}: {row['delivered']}/{size} delivered in {row['drain_seconds']} s "
          f"({row['deliveries_per_s']}/s), peak RSS {row['peak_rss_mib']} MiB"
          f"{'' if row['exactly_once'] else ' NOT EXACTLY ONCE'}", flush=True)
    return row


def run_drain(database: str, home: Path, args, password: str) -> dict:
    rows = [drain_one(database, size, home, args, password) for size in (args.small_backlog, args.backlog)]
    small, large = rows
    return {"rows": rows, "peak_rss_ratio": round(large["peak_rss_mib"] / small["peak_rss_mib"], 3)}


# --- the run -----------------------------------------------------------------------------------------


def table(report: dict) -> str:
    """The results as two RST tables (the README quotes them)."""
    def grid(header: tuple, lines: list[tuple]) -> list[str]:
        widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
        rule = " ".join("=" * w for w in widths)
        return [rule, " ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), rule,
                *(" ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines), rule]

    small, large = report["setup"]["small"], report["setup"]["queued"]
    flat = []
    for database, result in report["databases"].items():
        if not result["flatness"]:
            continue
        for name, row in result["flatness"]["requests"].items():
            flat.append((database, name, f"{row['small_p50_ms']} / {row['small_p99_ms']}",
                         f"{row['large_p50_ms']} / {row['large_p99_ms']}",
                         f"{row['ratio_p50']:.2f} / {row['ratio_p99']:.2f}"))
    drain = []
    for database, result in report["databases"].items():
        if not result["drain"]:
            continue
        for row in result["drain"]["rows"]:
            drain.append((database, f"{row['backlog']:,}", f"{row['drain_seconds']}", f"{row['deliveries_per_s']}",
                          f"{row['peak_rss_mib']}", f"{result['drain']['peak_rss_ratio']:.2f}",
                          "yes" if row["exactly_once"] else "NO"))
    lines = []
    if flat:
        lines += grid(("database", "request", f"{small:,} queued p50 / p99 ms", f"{large:,} queued p50 / p99 ms",
                       "ratio p50 / p99"), flat) + [""]
    if drain:
        lines += grid(("database", "backlog", "drain s", "deliveries/s", "worker peak RSS MiB",
                       "peak RSS large / small", "each once"), drain)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--queued", type=int, default=100_000, help="queued submissions of the large queue")
    parser.add_argument("--small", type=int, default=1000, help="queued submissions of the small queue")
    parser.add_argument("--history", type=int, default=100_000,
                        help="graded submissions ahead of each queue (default 100,000), older than any queued")
    parser.add_argument("--backlog", type=int, default=30_000,
                        help="pending deliveries of the large backlog (default 30,000: the run fits in 8 minutes)")
    parser.add_argument("--small-backlog", type=int, default=3_000, help="pending deliveries of the small one")
    parser.add_argument("--requests", type=int, default=300, help="measured rounds of each queue (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="rounds not counted (default 20)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the order of each round")
    parser.add_argument("--databases", default=os.environ.get("BENCH_DATABASES", "sqlite,postgresql"),
                        help="where the queues are measured, comma-separated: sqlite, postgresql, mysql")
    parser.add_argument("--drain-databases", default=os.environ.get("BENCH_DRAIN_DATABASES", "sqlite"),
                        help="where the backlogs are drained (default sqlite: each database drains at some "
                             "150-250 deliveries/s on two cores, so 100,000 take about 10 minutes on each)")
    parser.add_argument("--out", type=Path, default=RESULTS / "backlog",
                        help="where the results go: OUT.json and OUT.rst (default bench/results/backlog)")
    parser.add_argument("--postgresql-url", default=os.environ.get(
        "BENCH_POSTGRESQL_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL account that may create databases (the run makes xqb_bench_backlog_* afresh)")
    parser.add_argument("--mysql-url", default=os.environ.get("BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql"),
                        help="a MariaDB account that may create databases (the run makes xqb_bench_backlog_* afresh)")
    parser.add_argument("--skip", choices=("flatness", "drain"), help="leave one half out (a shorter run)")
    args = parser.parse_args(argv)
    if args.requests + args.warmup > args.small:
        parser.error("--small must hold every round's pull (--requests + --warmup)")
    started = time.monotonic()
    password = secrets.token_urlsafe(24)
    results = {}
    measured = [name.strip() for name in args.databases.split(",") if name.strip()]
    drained = [name.strip() for name in args.drain_databases.split(",") if name.strip()]
    for database in dict.fromkeys(measured + drained):
        home = Path(tempfile.mkdtemp(prefix=f"xqb-bench-backlog-{database}-"))
        try:
            results[database] = {
                "flatness": run_flatness(database, home, args, password)
                if args.skip != "flatness" and database in measured else None,
                "drain": run_drain(database, home, args, password)
                if args.skip != "drain" and database in drained else None,
            }
        finally:
            shutil.rmtree(home, ignore_errors=True)
    report = {
        "benchmark": "get_submission and put_result at a small and a large queue, side by side; "
                     "a backlog of pending deliveries drained by `xqueue-bridge worker`",
        "setup": {
            "server": f"xqueue-bridge serve: gunicorn, {WORKERS} workers x {THREADS} threads, loopback, "
                      "DELIVERY_MODE worker without a drainer (a put_result writes its delivery and returns)",
            "client": "xqueue_bridge.runtime.clients.GraderClient (xqueue-watcher's habits), one request at a time",
            "small": args.small, "queued": args.queued, "history": args.history,
            "requests": args.requests, "warmup": args.warmup,
            "backlog": args.backlog, "small_backlog": args.small_backlog,
            "drain": "xqueue-bridge worker --poll-interval 0.05 alone; the LMS a threaded HTTP server on loopback "
                     "answering 200; peak RSS is the worker's VmHWM",
            "statistic": "nearest-rank percentiles of the round-trip time",
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_at_end": os.getloadavg()},
        "seconds": round(time.monotonic() - started, 1),
        "databases": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    args.out.with_suffix(".rst").write_text(table(report))
    print(table(report))
    print(f"whole run: {report['seconds']} s; written: {args.out.with_suffix('.json')}")
    once = all(row["exactly_once"] for r in results.values() if r["drain"] for row in r["drain"]["rows"])
    return 0 if once else 1


if __name__ == "__main__":
    sys.exit(main())
