"""
Scale with the graders: the bridge's stages beside the floor and edx-submissions, side by side in one run.

Targets, each a real server on loopback under gunicorn (2 workers x 8 threads):

* ``floor``: the least a correct XQueue server does (``bench/floor``: plain Django, one transaction per
  request, database sessions, a pullkey check, one sink row and one signal per result);
* ``edx-submissions``: edx-submissions 4.0.2's XQueue API with a receiver of its score event
  (``bench/anchor``, in the benchmark's own virtualenv ``bench/.venv``);
* the bridge's four stages (``callback``, ``shadow_callback``, ``shadow_event``, ``event``), one
  ``xqueue-bridge serve`` with its standalone receiving ends: every result is followed to the learner
  (callback: the LMS's ``xqueue_callback`` answered; event: the receiver's write).

For each database (SQLite in WAL mode with IMMEDIATE transactions, PostgreSQL, MariaDB) and each number of
graders (1, 4), each target gets a queue of ``--results`` answers, then G watcher-like graders (one ``requests``
session per thread, xqueue-watcher's login and habits: ``xqueue_bridge.runtime.clients.GraderClient``)
pull and reply until it is empty. A cell's throughput is results per second from its first put_result to
its last delivery; it checks that each result was delivered exactly once, and reports login,
get_submission and put_result p50/p99, and for shadow stages how far the comparisons were behind.
Targets take turns in a rotating order, so a noisy neighbour hurts each about as much.

Scaling across processes (PostgreSQL and MariaDB, 4 graders): ``callback`` and ``event`` again with
DELIVERY_MODE "worker", once with one ``xqueue-bridge serve --no-drainer`` and once with two, each time with
one ``xqueue-bridge worker`` delivering; there is no load balancer, so the graders are dealt round-robin to
the serve URLs (and the callbacks likewise). Not on SQLite: its one database-wide write lock already
serialises the two gunicorn workers of one serve, so a second serve would only add waiters for that lock.

All three databases are in by default, at 200 results per cell rather than 300: the whole run (44 cells)
took 6.5 minutes on 2 busy cores and ``make bench`` with its virtualenvs to create 7¼, under the 10 it is
allowed, and each cell still lasts several seconds.

Writes ``bench/results/scale.json``, ``scale.rst`` (the table, then the process-scaling one) and ``scale.png``
(results/s and put_result p99 by target and graders). Run: ``make bench`` (creates ``bench/.venv``, starts
PostgreSQL and MariaDB if needed), or ``python -m bench.scale [--results 200] [--databases sqlite,mariadb]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pymysql
import requests

from xqueue_bridge.runtime.clients import GraderClient
from xqueue_bridge.runtime.process import ServeProcess, free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
BENCH_PYTHON = Path(__file__).resolve().parent / ".venv" / "bin" / "python"
TARGETS = ("floor", "edx-submissions", "callback", "shadow_callback", "shadow_event", "event")
STAGES = TARGETS[2:]
GRADERS = (1, 4)
DATABASES = ("sqlite", "postgresql", "mariadb")
# Scaling across processes: these stages with DELIVERY_MODE "worker", at SCALING_GRADERS, with 1 and 2 serves.
SCALING_STAGES = ("callback", "event")
SERVES = (1, 2)
SCALING_GRADERS = 4
WORKER_POLL_INTERVAL = 0.1  # seconds the worker waits when idle (default 1.0): a cell's last delivery waits less
REPLY = {"correct": True, "score": 1.0, "msg": "<p>4 of 4 tests passed</p>"}
WORKERS, THREADS = 2, 8
CELL_TIMEOUT = 120.0  # seconds: a cell that has not finished by then is reported as it is
# Seconds the floor's and edx-submissions' cells wait once their graders are done: each writes its sink row in
# the grader's put_result, so a result missing then (a put_result refused) never comes.
SETTLED_TIMEOUT = 10.0


class Control:
    """A target's control process (``bench._control``): set up, seed, wait, in that target's environment."""

    def __init__(self, python: str, module: str, env: dict):
        self.process = subprocess.Popen(
            [python, "-m", module], env=env, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, start_new_session=True,
        )

    def __call__(self, do: str, **kwargs):
        self.process.stdin.write(json.dumps({"do": do, **kwargs}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"control process {self.process.args} exited ({self.process.wait()})")
        answer = json.loads(line)
        if not answer["ok"]:
            raise RuntimeError(f"{do}: {answer['error']}\n{answer['trace']}")
        return answer["value"]

    def stop(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class Child:
    """A server or worker in its own process group, its output in a file, stopped by process group."""

    def __init__(self, command: list[str], env: dict):
        self.output = tempfile.TemporaryFile()  # noqa: SIM115 (kept for the child's lifetime)
        self.process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=self.output, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.output.close()


class Worker(Child):
    """``xqueue-bridge worker``: the only one delivering when the serves run with DELIVERY_MODE "worker"."""

    def __init__(self, env: dict):
        # Unbuffered, so that its "worker started" line reaches the file while it runs.
        super().__init__([sys.executable, "-m", "xqueue_bridge", "worker",
                          "--poll-interval", str(WORKER_POLL_INTERVAL)], {**env, "PYTHONUNBUFFERED": "1"})

    def wait_ready(self, timeout: float = 30.0) -> Worker:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self.output.seek(0)
            if b"worker started" in self.output.read():
                return self
            time.sleep(0.1)
        self.output.seek(0)
        log = self.output.read().decode("utf-8", "replace")[-3000:]
        self.stop()
        raise RuntimeError(f"xqueue-bridge worker did not start:\n{log}")


class Gunicorn(Child):
    """A plain Django project under gunicorn (the floor, the anchor)."""

    def __init__(self, python: str, app: str, env: dict):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(
            [python, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{self.port}", "--workers", str(WORKERS),
             "--threads", str(THREADS), "--worker-class", "gthread", "--timeout", "60", "--keep-alive", "5"],
            env,
        )

    def wait_ready(self, timeout: float = 60.0) -> Gunicorn:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if requests.get(self.url + "/xqueue/login/", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.output.seek(0)
        log = self.output.read().decode("utf-8", "replace")[-3000:]
        self.stop()
        raise RuntimeError(f"{self.process.args} did not answer on {self.url}:\n{log}")


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def run_graders(urls: list[str], queue: str, graders: int, username: str, password: str, n: int) -> dict:
    """G watcher-like graders on one queue until it is empty (bounded in count and time), dealt to ``urls``."""
    timings: dict[str, list[float]] = {"login": [], "get_submission": [], "put_result": []}
    first_put: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + CELL_TIMEOUT

    def timed(name: str, call, *args):
        started = time.perf_counter()
        value = call(*args)
        with lock:
            timings[name].append(time.perf_counter() - started)
        return value

    def grade(url: str) -> None:
        client = GraderClient(url, username, password, timeout=30.0)
        try:
            if not timed("login", client.login):
                raise RuntimeError("login refused")
            for _ in range(2 * n):
                if time.monotonic() > deadline:
                    break
                served = timed("get_submission", client.get_submission, queue)
                if served is None:
                    break
                with lock:
                    if not first_put:
                        first_put.append(time.time())
                ok, content = timed("put_result", client.put_result, served["xqueue_header"], REPLY)
                if not ok:
                    with lock:
                        failures.append(str(content)[:200])
        except Exception as exc:  # reported in the cell; the other graders go on
            with lock:
                failures.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=grade, args=(urls[i % len(urls)],), name=f"grader-{i}")
               for i in range(graders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(CELL_TIMEOUT + 30)
    return {"timings": timings, "first_put_at": first_put[0] if first_put else None, "failures": failures}


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def queue_name(target: str, graders: int, database: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", f"{target}-{graders}-{database}")


def processes(serves: int) -> str:
    return f"{serves} serve{'s' if serves > 1 else ''}+worker"


def scaling_target(stage: str, serves: int) -> str:
    """The target name of a process-scaling cell, e.g. ``callback 2 serves+worker``."""
    return f"{stage} {processes(serves)}"


def run_cell(target: str, control: Control, urls: list[str], database: str, graders: int, n: int,
             password: str, stage: str | None = None) -> dict:
    """One cell: seed ``n`` answers, grade them through ``urls``, wait for every delivery (``stage``: the bridge's)."""
    queue = queue_name(target, graders, database)
    if stage:
        control("seed", queue=queue, n=n, stage=stage, base_url=urls[0], password=password, callback_urls=urls)
    else:
        control("seed", queue=queue, n=n)
    load = run_graders(urls, queue, graders, "grader", password, n)
    kwargs = {"shadow": True} if target.startswith("shadow") else {}
    outcome = control("wait", queue=queue, n=n, timeout=CELL_TIMEOUT if stage else SETTLED_TIMEOUT, **kwargs)
    elapsed = None
    if load["first_put_at"] and outcome["last_delivery_at"]:
        elapsed = max(outcome["last_delivery_at"] - load["first_put_at"], 1e-6)
    t = load["timings"]
    row = {
        "database": database, "target": target, "graders": graders, "results": n,
        "delivered": outcome["delivered"], "results_delivered": outcome["results"], "doubled": outcome["doubled"],
        "exactly_once": outcome["delivered"] == n and outcome["results"] == n and outcome["doubled"] == 0,
        "seconds": round(elapsed, 2) if elapsed else None,
        "results_per_s": round(outcome["results"] / elapsed, 1) if elapsed else 0.0,
        "put_result_p50_ms": ms(percentile(t["put_result"], 0.5)),
        "put_result_p99_ms": ms(percentile(t["put_result"], 0.99)),
        "get_submission_p50_ms": ms(percentile(t["get_submission"], 0.5)),
        "get_submission_p99_ms": ms(percentile(t["get_submission"], 0.99)),
        "login_max_ms": ms(max(t["login"], default=None)),
        "grader_failures": load["failures"][:5], "grader_failure_count": len(load["failures"]),
    }
    if "shadow" in outcome:
        row["shadow"] = outcome["shadow"]
    return row


def postgres_databases(admin_url: str, names: list[str]) -> None:
    """Fresh databases for this run (dropped first if a previous run left them)."""
    with psycopg.connect(admin_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')


def mariadb_databases(admin_url: str, names: list[str]) -> None:
    """Fresh databases for this run (dropped first if a previous run left them), in utf8mb4."""
    parts = urlsplit(admin_url)
    conn = pymysql.connect(host=parts.hostname or "127.0.0.1", port=parts.port or 3306, user=parts.username or "root",
                           password=parts.password or "", autocommit=True)
    try:
        with conn.cursor() as cursor:
            for name in names:
                cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
                cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    finally:
        conn.close()


def database_urls(database: str, home: Path, admin_urls: dict[str, str]) -> dict[str, str]:
    if database == "sqlite":
        return {kind: f"sqlite:///{home / (kind + '.sqlite3')}" for kind in ("floor", "anchor", "bridge")}
    names = {kind: f"xqb_bench_{kind}" for kind in ("floor", "anchor", "bridge")}
    admin_url = admin_urls[database]
    {"postgresql": postgres_databases, "mariadb": mariadb_databases}[database](admin_url, list(names.values()))
    base = admin_url.rsplit("/", 1)[0]
    return {kind: f"{base}/{name}" for kind, name in names.items()}


def run_database(database: str, n: int, admin_urls: dict[str, str], order_seed: int) -> list[dict]:
    home = Path(tempfile.mkdtemp(prefix=f"xqb-bench-scale-{database}-"))
    password = secrets.token_urlsafe(24)  # long and random, as a service account's secret is
    urls = database_urls(database, home, admin_urls)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_SETTINGS", "DATABASE_URL"))}
    base_env["PYTHONPATH"] = str(ROOT)
    scaling = [] if database == "sqlite" else [(stage, serves) for stage in SCALING_STAGES for serves in SERVES]
    queues = [queue_name(stage, g, database) for stage in STAGES for g in GRADERS]
    queues += [queue_name(scaling_target(stage, serves), SCALING_GRADERS, database) for stage, serves in scaling]
    env = {
        "floor": {**base_env, "BENCH_DATABASE_URL": urls["floor"], "DJANGO_SETTINGS_MODULE": "bench.floor.settings"},
        "anchor": {**base_env, "BENCH_DATABASE_URL": urls["anchor"],
                   "DJANGO_SETTINGS_MODULE": "bench.anchor.settings"},
        "bridge": {**base_env, "DATABASE_URL": urls["bridge"], "XQUEUE_BRIDGE_HOME": str(home / "bridge"),
                   "DJANGO_SETTINGS_MODULE": "xqueue_bridge.runtime.settings",
                   "XQUEUE_BRIDGE_QUEUES": ",".join(queues), "XQUEUE_BRIDGE_LOG_LEVEL": "WARNING",
                   "XQUEUE_BRIDGE_FLAG_CACHE_TTL": "0", "XQUEUE_BRIDGE_DELIVERY_MODE": "thread"},
    }
    env["bridge"].pop("REDIS_URL", None)
    controls = {
        "floor": Control(sys.executable, "bench.floor.control", env["floor"]),
        "anchor": Control(str(BENCH_PYTHON), "bench.anchor.control", env["anchor"]),
        "bridge": Control(sys.executable, "bench.bridge.control", env["bridge"]),
    }
    servers: dict = {}
    rows: list[dict] = []
    try:
        for control in controls.values():
            control("setup", username="grader", password=password)
        servers["floor"] = Gunicorn(sys.executable, "bench.floor.wsgi:application", env["floor"])
        servers["anchor"] = Gunicorn(str(BENCH_PYTHON), "bench.anchor.wsgi:application", env["anchor"])
        servers["bridge"] = ServeProcess(workers=WORKERS, threads=THREADS, env=env["bridge"])
        for server in servers.values():
            server.wait_ready()
        turn = order_seed
        for graders in GRADERS:
            order = TARGETS[turn % len(TARGETS):] + TARGETS[:turn % len(TARGETS)]
            turn += 1
            for target in order:
                kind = {"floor": "floor", "edx-submissions": "anchor"}.get(target, "bridge")
                row = run_cell(target, controls[kind], [servers[kind].url], database, graders, n, password,
                               stage=target if kind == "bridge" else None)
                rows.append(row)
                print_row(row)
        if scaling:
            rows += run_scaling(database, scaling[turn % len(scaling):] + scaling[:turn % len(scaling)], n,
                                env["bridge"], controls["bridge"], servers, password)
    finally:
        for server in servers.values():
            server.stop()
        for control in controls.values():
            control.stop()
        shutil.rmtree(home, ignore_errors=True)
    return rows


def run_scaling(database: str, cells: list[tuple[str, int]], n: int, env: dict, control: Control,
                servers: dict, password: str) -> list[dict]:
    """The process-scaling cells: serves with DELIVERY_MODE "worker" and no drainer, one worker delivering."""
    # The thread-mode serve goes first: the drainer threads of its workers would deliver these cells' rows too.
    servers.pop("bridge").stop()
    env = {**env, "XQUEUE_BRIDGE_DELIVERY_MODE": "worker"}
    serves = [ServeProcess(workers=WORKERS, threads=THREADS, env=env, options=("--no-drainer",))
              for _ in range(max(SERVES))]
    servers.update({f"serve-{i}": serve for i, serve in enumerate(serves)})
    servers["worker"] = Worker(env)
    for server in [*serves, servers["worker"]]:
        server.wait_ready()
    rows = []
    for stage, count in cells:
        row = run_cell(scaling_target(stage, count), control, [serve.url for serve in serves[:count]], database,
                       SCALING_GRADERS, n, password, stage=stage)
        row.update(stage=stage, serves=count, delivery_mode="worker")
        rows.append(row)
        print_row(row)
    return rows


def print_row(row: dict) -> None:
    shadow = ""
    if "shadow" in row:
        s = row["shadow"]
        shadow = (f", compared or shed {s['done_by_last_delivery']}/{s['results']} by the last delivery, "
                  f"shed {s.get('shed', 0)}, lag p99 {s['lag_p99_s']} s")
    print(f"{row['database']:>10} {row['target']:>15} {row['graders']} grader(s): {row['results_per_s']:6.1f} "
          f"results/s, put_result p50/p99 {row['put_result_p50_ms']}/{row['put_result_p99_ms']} ms, "
          f"login max {row['login_max_ms']} ms, delivered {row['delivered']}/{row['results']}"
          f"{'' if row['exactly_once'] else ' NOT EXACTLY ONCE'}{shadow}", flush=True)


def ratios(rows: list[dict]) -> dict:
    by = {(r["database"], r["target"], r["graders"]): r for r in rows}
    out: dict[str, float | None] = {}

    def ratio(a, b, field="results_per_s"):
        if a in by and b in by and by[b][field]:
            return round(by[a][field] / by[b][field], 2)
        return None

    for database in sorted({r["database"] for r in rows}):
        for target in TARGETS:
            out[f"{database}: {target} 4 graders / 1"] = ratio((database, target, 4), (database, target, 1))
        for graders in GRADERS:
            for target in TARGETS[1:]:
                out[f"{database}, {graders}g: {target} / floor"] = ratio((database, target, graders),
                                                                        (database, "floor", graders))
            for shadow, authoritative in (("shadow_callback", "callback"), ("shadow_event", "event")):
                out[f"{database}, {graders}g: {shadow} / {authoritative}"] = ratio(
                    (database, shadow, graders), (database, authoritative, graders))
            for target in TARGETS[1:]:
                out[f"{database}, {graders}g: {target} put_result p99 / floor's"] = ratio(
                    (database, target, graders), (database, "floor", graders), "put_result_p99_ms")
        g = SCALING_GRADERS
        for stage in SCALING_STAGES:
            one, two = (scaling_target(stage, serves) for serves in SERVES)
            if (database, one, g) not in by:
                continue
            out[f"{database}, {g}g: {two} / {one}"] = ratio((database, two, g), (database, one, g))
            for target in (one, two):
                out[f"{database}, {g}g: {target} / floor"] = ratio((database, target, g), (database, "floor", g))
    return out


def table(rows: list[dict]) -> str:
    """The results as an RST grid the README includes."""
    floor = {(r["database"], r["graders"]): r["results_per_s"] for r in rows if r["target"] == "floor"}
    header = ("database", "target", "graders", "results/s", "x floor", "put p50/p99 ms", "get p99 ms",
              "login max ms", "exactly once", "shadow: compared or shed by last delivery, shed, lag p99")
    lines = []
    for r in rows:
        base = floor.get((r["database"], r["graders"]))
        shadow = ""
        if "shadow" in r:
            s = r["shadow"]
            shadow = f"{s['done_by_last_delivery']}/{s['results']}, {s.get('shed', 0)} shed"
            shadow += f", {s['lag_p99_s']:.2f} s" if s["lag_p99_s"] is not None else ""
        lines.append((r["database"], r["target"], str(r["graders"]), f"{r['results_per_s']:.1f}",
                      f"{r['results_per_s'] / base:.2f}" if base else "-",
                      f"{r['put_result_p50_ms']} / {r['put_result_p99_ms']}", str(r["get_submission_p99_ms"]),
                      str(r["login_max_ms"]), f"{r['results_delivered']}/{r['results']}, {r['doubled']} doubled"
                      if r["exactly_once"] else f"NO: {r['results_delivered']}/{r['results']}, {r['doubled']} doubled",
                      shadow or "-"))
    return grid(header, lines)


def scaling_table(rows: list[dict]) -> str:
    """The process-scaling cells side by side: results/s with one serve and with two (and a worker), two / one."""
    by = {(r["database"], r["stage"], r["serves"]): r for r in rows if "serves" in r}
    header = ("database", "stage (DELIVERY_MODE worker)", "graders",
              *(f"{processes(serves)} results/s" for serves in SERVES), "two / one", "exactly once")
    lines = []
    for database, stage in ((d, st) for d in dict.fromkeys(d for d, _, _ in by) for st in SCALING_STAGES):
        one, two = (by.get((database, stage, serves)) for serves in SERVES)
        lines.append((database, stage, str(SCALING_GRADERS),
                      *(f"{r['results_per_s']:.1f}" if r else "-" for r in (one, two)),
                      f"{two['results_per_s'] / one['results_per_s']:.2f}" if one and two and one["results_per_s"]
                      else "-",
                      "yes" if all(r and r["exactly_once"] for r in (one, two)) else "NO"))
    return grid(header, lines) if lines else ""


def grid(header: tuple[str, ...], lines: list[tuple[str, ...]]) -> str:
    """An RST simple table of ``lines`` under ``header``."""
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    rule = " ".join("=" * w for w in widths)
    out = [rule, " ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), rule]
    out += [" ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    out.append(rule)
    return "\n".join(out) + "\n"


def tables(rows: list[dict]) -> str:
    """Every cell's table, then the process-scaling one (when there are such cells)."""
    scaling = scaling_table(rows)
    return table(rows) + ("\n" + scaling if scaling else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=int, default=int(os.environ.get("BENCH_RESULTS", "200")),
                        help="answers per cell (default 200: the whole run fits in 10 minutes on 2 cores)")
    parser.add_argument("--databases", default=os.environ.get("BENCH_DATABASES", ",".join(DATABASES)),
                        help=f"a comma-separated choice of {', '.join(DATABASES)} (default all)")
    parser.add_argument("--postgresql-url", default=os.environ.get(
        "BENCH_POSTGRESQL_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL account that may create databases (the run makes xqb_bench_* and drops them first)")
    parser.add_argument("--mariadb-url", default=os.environ.get(
        "BENCH_MARIADB_URL", "mysql://root@127.0.0.1:3306/mysql"),
        help="a MariaDB account that may create databases (the run makes xqb_bench_* and drops them first)")
    args = parser.parse_args(argv)
    databases = [database.strip() for database in args.databases.split(",") if database.strip()]
    if unknown := set(databases) - set(DATABASES):
        parser.error(f"--databases: unknown {', '.join(sorted(unknown))}; expected some of {', '.join(DATABASES)}")
    if not BENCH_PYTHON.exists():
        sys.exit(f"{BENCH_PYTHON} is missing: `make bench` creates it (bench/requirements.txt)")
    started = time.monotonic()
    rows: list[dict] = []
    admin_urls = {"postgresql": args.postgresql_url, "mariadb": args.mariadb_url}
    seconds: dict[str, float] = {}
    for turn, database in enumerate(databases):
        begun = time.monotonic()
        rows += run_database(database, args.results, admin_urls, turn)
        seconds[database] = round(time.monotonic() - begun, 1)
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_at_end": os.getloadavg()},
        "servers": f"gunicorn {WORKERS} workers x {THREADS} threads each; bridge: xqueue-bridge serve, "
                   "DELIVERY_MODE thread, standalone receiving ends; process scaling: 1 or 2 xqueue-bridge serve "
                   f"--no-drainer and one xqueue-bridge worker --poll-interval {WORKER_POLL_INTERVAL}, "
                   "DELIVERY_MODE worker",
        "results_per_cell": args.results, "seconds": round(time.monotonic() - started, 1),
        "seconds_per_database": seconds,
        "rows": rows, "ratios": ratios(rows),
        "all_exactly_once": all(r["exactly_once"] for r in rows),
        # What the run vouches for: the bridge's cells and the floor. edx-submissions may refuse a reply
        # under load (HTTP 409, see the README); its cell shows it, and the run goes on.
        "checked_exactly_once": all(r["exactly_once"] for r in rows if r["target"] != "edx-submissions"),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "scale.rst").write_text(tables(rows))
    plotted = subprocess.call([str(BENCH_PYTHON), "-m", "bench.plot", str(RESULTS / "scale.json"),
                               str(RESULTS / "scale.png")], cwd=ROOT)
    print(tables(rows))
    for name, value in report["ratios"].items():
        print(f"  {name}: {value}")
    print(f"whole run: {report['seconds']} s ({', '.join(f'{d} {s} s' for d, s in seconds.items())}); "
          f"every result delivered exactly once: {report['all_exactly_once']} "
          f"(the floor and the bridge: {report['checked_exactly_once']})")
    return 0 if report["checked_exactly_once"] and plotted == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
