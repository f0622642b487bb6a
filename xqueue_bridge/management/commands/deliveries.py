"""``xqueue-bridge deliveries``: list deliveries by status, course or queue (table or JSON)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from xqueue_bridge.arguments import bad_argument, course_key
from xqueue_bridge.models import Delivery
from xqueue_bridge.outbox.replay import describe


class Command(BaseCommand):
    help = "List deliveries, e.g. the given-up ones: --status dead."

    def add_arguments(self, parser):
        parser.add_argument("--status", choices=[s.value for s in Delivery.Status], default=None)
        parser.add_argument("--course", default=None, help="course id")
        parser.add_argument("--queue", default=None, help="queue name")
        parser.add_argument("--limit", type=int, default=100)
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args, **options):
        if options["limit"] < 1:
            raise bad_argument(f"--limit {options['limit']}: expected a number of deliveries of 1 or more")
        deliveries = Delivery.objects.select_related("submission").order_by("-id")
        if options["status"]:
            deliveries = deliveries.filter(status=options["status"])
        if options["course"]:
            deliveries = deliveries.filter(submission__course_id=course_key(options["course"]))
        if options["queue"]:
            deliveries = deliveries.filter(submission__queue_name=options["queue"])
        rows = [
            {
                "id": d.pk, "submission": d.submission_id, "course": d.submission.course_id,
                "queue": d.submission.queue_name, "kind": d.kind, "path": d.path, "status": d.status,
                "attempts": d.attempts, "created": d.created_at.isoformat(timespec="seconds"),
                "last_error": d.last_error,
                **({"replay": describe(d)} if d.status == Delivery.Status.DEAD else {}),
            }
            for d in deliveries[: options["limit"]]
        ]
        if options["format"] == "json":
            self.stdout.write(json.dumps(rows, indent=2))
            return
        if not rows:
            self.stdout.write("no deliveries")
            return
        columns = ["id", "submission", "course", "queue", "kind", "path", "status", "attempts", "last_error"]
        widths = {c: min(60, max(len(c), *(len(str(r[c])) for r in rows))) for c in columns}
        self.stdout.write("  ".join(c.ljust(widths[c]) for c in columns))
        for row in rows:
            self.stdout.write("  ".join(str(row[c])[: widths[c]].ljust(widths[c]) for c in columns))
