"""
``xqueue-bridge shadow-report``: how often the two paths agree, per course, org or queue and stage.

For each group: comparisons, matched / mismatched / ignored / errored and the match rate, the results shed
under load (SHADOW["MAX_LAG"], in no rate), mismatches by field and by category with examples (scalar
values; the feedback as a digest unless STORE_FULL_VALUES), p50/p99 durations of the control and the
candidate, the noise baseline, and the rules in force.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from xqueue_bridge.arguments import course_key, org_name, parsed
from xqueue_bridge.listing import WithExamples
from xqueue_bridge.shadow.formats import report_csv, report_table
from xqueue_bridge.shadow.report import GROUPINGS, parse_since, shadow_report


class Command(WithExamples, BaseCommand):
    help = "Shadow comparisons of the two delivery paths per course, org or queue (table, JSON or CSV)."
    examples = [
        "xqueue-bridge shadow-report",
        "xqueue-bridge shadow-report --since 24h --by org",
        "xqueue-bridge shadow-report --course course-v1:edX+DemoX+2026 --examples 5 --format json",
        "xqueue-bridge shadow-report --since 2026-11-24 --by queue --format csv",
    ]

    def add_arguments(self, parser):
        parser.add_argument("--since", default=None,
                            help="only comparisons since: 24h, 7d, 30m or an ISO date (default: all kept)")
        parser.add_argument("--by", choices=sorted(GROUPINGS), default="course", help="group by (default course)")
        parser.add_argument("--course", default=None, help="only this course id")
        parser.add_argument("--org", default=None, help="only this org")
        parser.add_argument("--queue", default=None, help="only this queue")
        parser.add_argument("--examples", type=int, default=3, help="examples per category (default 3)")
        parser.add_argument("--format", choices=["table", "json", "csv"], default="table")

    def handle(self, *args, **options):
        since = parsed(options["since"] or None, parse_since, "--since")
        report = shadow_report(
            since=since, by=options["by"], course=course_key(options["course"]), org=org_name(options["org"]),
            queue=options["queue"],
            examples=max(0, options["examples"]),
        )
        if options["format"] == "json":
            self.stdout.write(json.dumps(report, indent=2))
        elif options["format"] == "csv":
            self.stdout.write(report_csv(report), ending="")
        else:
            self.stdout.write(report_table(report), ending="")
