"""
A second bridge process for the cache tests: reads JSON commands on stdin, answers one JSON line each.

Run as ``python -m tests.toggles.child`` with ``DJANGO_SETTINGS_MODULE=tests.settings`` and
``XQB_CHILD_DB_NAME`` naming the test database. Its TTL clock only moves on an ``advance`` command.

    {"op": "stage", "course": C}         -> {"stage", "reason", "queries"}
    {"op": "set_stage", "target": T, "stage": S, "reason": R, "by": B}  -> {"ok": true}
    {"op": "advance", "seconds": N}      -> {"ok": true}
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = os.environ["XQB_CHILD_DB_NAME"]
    import django

    django.setup()

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from toggles import cache
    from xqueue_bridge.stage import rollout
    from xqueue_bridge.stage.decide import decide_stage

    now = [1000.0]
    cache.clock = lambda: now[0]

    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        if op == "stage":
            with CaptureQueriesContext(connection) as queries:
                decision = decide_stage(command["course"])
            reply = {"stage": decision.stage, "reason": decision.reason, "queries": len(queries)}
        elif op == "set_stage":
            who = {"reason": command["reason"], "changed_by": command["by"]}
            rollout.set_stage(command["target"], command["stage"], **who, force=True, allow_unseen=True)
            reply = {"ok": True}
        elif op == "advance":
            now[0] += command["seconds"]
            reply = {"ok": True}
        else:
            break
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    connection.close()


if __name__ == "__main__":
    main()
