"""
``xqueue-bridge purge-comparisons``: delete shadow comparisons older than the retention period.

Run it daily (cron, a Kubernetes CronJob or celery beat); SHADOW["RETENTION_DAYS"] (default 30) is the
period unless --days says otherwise.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from xqueue_bridge.arguments import bad_argument
from xqueue_bridge.conf import get_setting
from xqueue_bridge.listing import WithExamples
from xqueue_bridge.shadow.report import purge


class Command(WithExamples, BaseCommand):
    help = "Delete shadow comparisons older than SHADOW['RETENTION_DAYS'] days (or --days)."
    examples = [
        "xqueue-bridge purge-comparisons --dry-run",
        "xqueue-bridge purge-comparisons --days 30",
    ]

    def add_arguments(self, parser):
        parser.add_argument("--days", type=float, default=None, help="retention in days (setting RETENTION_DAYS)")
        parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")

    def handle(self, *args, **options):
        days = get_setting("SHADOW")["RETENTION_DAYS"] if options["days"] is None else options["days"]
        try:
            count = purge(days=days, dry_run=options["dry_run"])
        except ValueError as exc:
            raise bad_argument(str(exc))
        verb = "would be deleted" if options["dry_run"] else "deleted"
        self.stdout.write(f"{count} comparisons older than {float(days):g} days {verb}")
