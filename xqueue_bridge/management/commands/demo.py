"""``xqueue-bridge demo``: the main job end to end on the embedded default (see xqueue_bridge.runtime.demo)."""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from xqueue_bridge.listing import WithExamples
from xqueue_bridge.runtime import sqlite
from xqueue_bridge.runtime.cli import DEMO_HOME


class Command(WithExamples, BaseCommand):
    help = ("Serve the bridge, move demo courses through the stages, submit, grade and deliver over real HTTP, "
            "and print what each learner sees, then the shadow report and readiness. Run it as "
            "``xqueue-bridge demo [--keep]``, which gives it a throw-away data folder.")
    examples = [
        "xqueue-bridge demo",
        "xqueue-bridge demo --keep",
    ]

    def handle(self, *args, **options):
        from xqueue_bridge.runtime.demo import run_demo

        home = os.environ.get(DEMO_HOME)
        database = settings.DATABASES["default"]
        on_demo_database = (
            bool(home) and database["ENGINE"] in ("django.db.backends.sqlite3", sqlite.ENGINE)
            and Path(database["NAME"]).resolve().is_relative_to(Path(home).resolve())
        )
        if not on_demo_database:
            raise CommandError(
                "The demo writes demo accounts, courses and rollout overrides, so it runs only on a throw-away "
                "SQLite database: run it as `xqueue-bridge demo` (add --keep to keep its data folder), "
                "not through `manage` or on a configured database."
            )
        run_demo(out=self.stdout.write)
