"""``xqueue-bridge worker``: deliver due results (retries included) and run pending shadow comparisons."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from xqueue_bridge.listing import WithExamples
from xqueue_bridge.outbox.runners import drain, run_worker


class Command(WithExamples, BaseCommand):
    help = "Deliver due results and run pending shadow comparisons until stopped (SIGINT or SIGTERM)."
    examples = [
        "xqueue-bridge worker --once",
        "XQUEUE_BRIDGE_DELIVERY_MODE=worker nice xqueue-bridge worker --poll-interval 0.5",
    ]

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="drain what is due now, then exit")
        parser.add_argument("--poll-interval", type=float, default=None,
                            help="seconds between passes when idle (setting WORKER_POLL_INTERVAL)")

    def handle(self, *args, **options):
        if options["once"]:
            total = 0
            while done := drain():
                total += done
            self.stdout.write(f"{total} items processed")
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write("worker started; SIGINT or SIGTERM stops it")
        run_worker(poll_interval=options["poll_interval"], stop=stop)
