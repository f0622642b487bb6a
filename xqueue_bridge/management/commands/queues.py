"""
``xqueue-bridge queues``: per queue, how many submissions wait for a grader (queued) or are held by one
(pulled), and how many deliveries are pending, retrying or dead, each with the age of its oldest (what
XQueue operators read from ``count_queued_submissions``).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from xqueue_bridge.cockpit.serializers import QueueLengthSerializer
from xqueue_bridge.cockpit.stats import queue_lengths
from xqueue_bridge.listing import WithExamples, add_format_argument, render


class Command(WithExamples, BaseCommand):
    help = "Length and oldest age of each queue by status (submissions queued or pulled, deliveries waiting)."
    examples = [
        "xqueue-bridge queues",
        "xqueue-bridge queues --queue test-pull --format json",
        "xqueue-bridge queues --format csv",
    ]

    def add_arguments(self, parser):
        parser.add_argument("--queue", action="append", default=None, help="only this queue (repeatable)")
        add_format_argument(parser)

    def handle(self, *args, **options):
        rows = [row for row in queue_lengths() if not options["queue"] or row["queue"] in options["queue"]]
        data = [dict(row) for row in QueueLengthSerializer(rows, many=True).data]
        if options["format"] == "table":
            for row in data:
                row["oldest_age"] = _age(row["oldest_age"])
        self.stdout.write(render(data, ["queue", "status", "count", "oldest_age"], options["format"],
                                 empty="no queues"), ending="")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
