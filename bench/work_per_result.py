"""
The work the bridge does per result, counted: queries and write transactions per step, and where each runs.

In one process, on a throwaway SQLite home, with DELIVERY_MODE "sync": the runner attempts a delivery right
after its put_result commits, under the lease the row was written with, as the thread pool of ``serve``
does (there in a thread of its own, after the grader has its answer; here it is counted as a step of its
own). A grader logs in, then for each stage one answer is submitted, pulled and replied to; the callback
goes over HTTP to the bridge's own ``xqueue_callback`` served by a thread of this process. Every
statement on every connection is recorded with the step it belongs to; a write transaction is a COMMIT
after at least one write, or a write in autocommit. The request thread does ``login``,
``get_submission`` and ``put_result``; the rest is the work behind the grader's answer.

Prints a table and writes ``bench/results/work_per_result.json``. Run: ``python -m bench.work_per_result``.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import threading
from collections import Counter, defaultdict
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

RESULTS = Path(__file__).resolve().parent / "results" / "work_per_result.json"
STAGES = ("callback", "shadow_callback", "shadow_event", "event")
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")

_step = threading.local()
counts: dict[str, Counter] = defaultdict(Counter)
statements: dict[str, list[str]] = defaultdict(list)


def step() -> str:
    return getattr(_step, "name", None) or threading.current_thread().name


def _record(execute, sql, params, many, context):
    connection = context["connection"]
    name = step()
    counts[name]["queries"] += 1
    statements[name].append(sql.split(" WHERE ")[0][:120])
    if sql.lstrip().upper().startswith(WRITES):
        counts[name]["writes"] += 1
        if connection.in_atomic_block:
            connection._bench_dirty = True
        else:
            counts[name]["write_transactions"] += 1
    return execute(sql, params, many, context)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main() -> dict:
    home = Path(tempfile.mkdtemp(prefix="xqb-bench-work-"))
    os.environ.update({
        "XQUEUE_BRIDGE_HOME": str(home), "DJANGO_SETTINGS_MODULE": "xqueue_bridge.runtime.settings",
        "XQUEUE_BRIDGE_QUEUES": ",".join(STAGES), "XQUEUE_BRIDGE_DELIVERY_MODE": "sync",
        "XQUEUE_BRIDGE_LOG_LEVEL": "WARNING", "XQUEUE_BRIDGE_FLAG_CACHE_TTL": "0",
    })
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.backends.signals import connection_created
    from django.test import Client

    from xqueue_bridge.keys import quote_slashes
    from xqueue_bridge.management.commands.users import ensure_user
    from xqueue_bridge.outbox import runners
    from xqueue_bridge.runtime.clients import make_body, make_header
    from xqueue_bridge.runtime.wsgi import application
    from xqueue_bridge.shadow import experiment
    from xqueue_bridge.sink import learners
    from xqueue_bridge.stage import rollout

    call_command("migrate", interactive=False, verbosity=0)
    password = secrets.token_urlsafe(24)
    ensure_user("grader", password)
    ensure_user("lms", password)

    original_commit = BaseDatabaseWrapper._commit

    def counting_commit(self):
        if getattr(self, "_bench_dirty", False):
            counts[step()]["write_transactions"] += 1
            self._bench_dirty = False
        return original_commit(self)

    BaseDatabaseWrapper._commit = counting_commit
    connection_created.connect(lambda sender, connection, **kw: connection.execute_wrappers.append(_record),
                               weak=False)
    from django.db import connections

    for connection in connections.all():
        connection.close()
    original_compare = experiment.compare_result

    def labelled_compare(delivery):
        outer, _step.name = step(), "comparison (after the delivery)"
        try:
            return original_compare(delivery)
        finally:
            _step.name = outer

    experiment.compare_result = labelled_compare
    original_attempt = runners.attempt

    def labelled_attempt(delivery_id, **kwargs):
        outer, _step.name = step(), "delivery attempt (after the answer)"
        try:
            return original_attempt(delivery_id, **kwargs)
        finally:
            _step.name = outer

    runners.attempt = labelled_attempt

    server: WSGIServer = make_server("127.0.0.1", 0, application, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="receiving end (LMS's xqueue_callback)", daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    grader = Client(HTTP_HOST="127.0.0.1")
    lms = Client(HTTP_HOST="127.0.0.1")
    report = {}
    try:
        _step.name = "setup"
        lms.post("/xqueue/login/", {"username": "lms", "password": password})
        counts.clear()
        _step.name = "login (request)"
        grader.get("/xqueue/login/")
        grader.post("/xqueue/login/", {"username": "grader", "password": password})
        report["login"] = dict(counts.pop("login (request)"))
        for stage in STAGES:
            _step.name = "setup"
            course = f"course-v1:Work+{stage.replace('_', '')}+2026"
            rollout.set_stage(course, stage, reason="benchmark", changed_by="bench",
                              force=True, allow_unseen=True)
            usage = f"block-v1:Work+{stage.replace('_', '')}+2026+type@problem+block@p1"
            key = secrets.token_hex(16)
            learners.begin_attempt(course, usage, "1", "anon-1", key)
            url = f"{base}/courses/{course}/xqueue/1/{quote_slashes(usage)}/score_update"
            counts.clear()
            statements.clear()
            _step.name = "submit (LMS request)"
            lms.post("/xqueue/submit/", {"xqueue_header": make_header(url, key, stage),
                                         "xqueue_body": make_body("answer", "anon-1")})
            _step.name = "get_submission (request)"
            served = json.loads(grader.get("/xqueue/get_submission/", {"queue_name": stage}).json()["content"])
            _step.name = "put_result (request)"
            answer = grader.post("/xqueue/put_result/", {
                "xqueue_header": served["xqueue_header"],
                "xqueue_body": json.dumps({"correct": True, "score": 1.0, "msg": "<p>ok</p>"})}).json()
            assert answer["return_code"] == 0, answer
            _step.name = "setup"
            report[stage] = {name: {**c, "statements": statements[name]} for name, c in counts.items()
                             if name != "setup"}
    finally:
        server.shutdown()
        BaseDatabaseWrapper._commit = original_commit
        runners.attempt = original_attempt
    print(f"{'step':<40} " + " ".join(f"{s:>22}" for s in STAGES))
    steps = list(dict.fromkeys(name for stage in STAGES for name in report[stage]))
    for name in steps:
        cells = []
        for stage in STAGES:
            c = report[stage].get(name, {})
            cells.append(f"{c.get('queries', 0):>3} q, {c.get('write_transactions', 0)} write tx")
        print(f"{name:<40} " + " ".join(f"{cell:>22}" for cell in cells))
    for stage in STAGES:
        grading = [n for n in report[stage] if not n.startswith("submit")]
        report[stage]["write transactions per result (after submit)"] = sum(
            report[stage][n].get("write_transactions", 0) for n in grading)
        print(f"{stage}: {report[stage]['write transactions per result (after submit)']} write transactions "
              f"per result after submit")
    print(f"login: {report['login']}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
