"""``xqueue-bridge deliveries``: list deliveries by status, course or queue (table, JSON or CSV)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from xqueue_bridge.arguments import bad_argument, course_key
from xqueue_bridge.cockpit.serializers import DeliverySerializer
from xqueue_bridge.listing import WithExamples, add_format_argument, render
from xqueue_bridge.models import Delivery

COLUMNS = ["id", "submission", "course", "queue", "stage", "kind", "path", "status", "attempts", "last_error"]


class Command(WithExamples, BaseCommand):
    help = "List deliveries, e.g. the given-up ones: --status dead. JSON has the operators' API's shape."
    examples = [
        "xqueue-bridge deliveries --status dead",
        "xqueue-bridge deliveries --course course-v1:edX+DemoX+2026 --format csv",
        "xqueue-bridge deliveries --queue test-pull --limit 20 --format json",
    ]

    def add_arguments(self, parser):
        parser.add_argument("--status", choices=[s.value for s in Delivery.Status], default=None)
        parser.add_argument("--course", default=None, help="course id")
        parser.add_argument("--queue", default=None, help="queue name")
        parser.add_argument("--limit", type=int, default=100)
        add_format_argument(parser)

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
        rows = DeliverySerializer(deliveries[: options["limit"]], many=True).data
        self.stdout.write(render([dict(row) for row in rows], COLUMNS, options["format"], empty="no deliveries"),
                          ending="")
