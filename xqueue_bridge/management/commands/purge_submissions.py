"""
``xqueue-bridge purge-submissions``: delete finished submissions older than the retention period, with
their deliveries, comparisons and uploaded files (learner code and grader replies are personal data).

Run it daily; SUBMISSION_RETENTION_DAYS (default 90) is the period unless --days says otherwise.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from xqueue_bridge.arguments import bad_argument
from xqueue_bridge.conf import get_setting
from xqueue_bridge.listing import WithExamples
from xqueue_bridge.retention import purge


class Command(WithExamples, BaseCommand):
    help = "Delete finished submissions older than SUBMISSION_RETENTION_DAYS days (or --days), files included."
    examples = [
        "xqueue-bridge purge-submissions --dry-run",
        "xqueue-bridge purge-submissions --days 180",
    ]

    def add_arguments(self, parser):
        parser.add_argument("--days", type=float, default=None, help="days to keep (SUBMISSION_RETENTION_DAYS)")
        parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")

    def handle(self, *args, **options):
        days = get_setting("SUBMISSION_RETENTION_DAYS") if options["days"] is None else options["days"]
        try:
            count = purge(float(days), dry_run=options["dry_run"])
        except ValueError as exc:
            raise bad_argument(str(exc))
        verb = "would be deleted" if options["dry_run"] else "deleted"
        self.stdout.write(f"{count} finished submissions older than {float(days):g} days {verb}")
