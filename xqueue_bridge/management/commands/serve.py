"""
``xqueue-bridge serve``: migrate, then serve the bridge with gunicorn (threaded workers).

Each worker process also runs a drainer thread that delivers due retries and runs pending shadow
comparisons, so that one command is a complete bridge; ``--no-drainer`` leaves that to
``xqueue-bridge worker`` or Celery.
"""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand

from xqueue_bridge.listing import WithExamples


class Command(WithExamples, BaseCommand):
    help = "Migrate and serve the XQueue API over HTTP with gunicorn."
    examples = [
        "xqueue-bridge serve",
        "xqueue-bridge serve --host 0.0.0.0 --port 18040 --workers 4",
        "XQUEUE_BRIDGE_DELIVERY_MODE=worker xqueue-bridge serve --no-drainer",
    ]

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=18040, help="port to bind (default 18040)")
        parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
        parser.add_argument("--threads", type=int, default=8, help="threads per worker (default 8)")
        parser.add_argument("--timeout", type=int, default=60, help="seconds before a stuck worker is restarted")
        parser.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
        parser.add_argument("--no-drainer", action="store_true", help="no drainer thread in the workers")
        parser.add_argument("--access-log", action="store_true", help="log every request to stderr")

    def handle(self, *args, **options):
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        from xqueue_bridge.runtime.server import run

        run(
            host=options["host"], port=options["port"], workers=options["workers"], threads=options["threads"],
            timeout=options["timeout"], drainer=not options["no_drainer"], access_log=options["access_log"],
        )
