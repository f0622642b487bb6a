"""
``xqueue-bridge readiness``: which courses may move to their next stage, and why the others may not.

A course in a shadow stage is ready after at least READINESS["MIN_COMPARISONS"] comparisons in that stage
(counted from its last guardrail move), the first at least MIN_HOURS ago, with a mismatch rate and an
error rate at or below MAX_MISMATCH_RATE and MAX_ERROR_RATE. A callback course may always start shadowing;
an event course has no next stage. The options override the settings for one run.
"""

from __future__ import annotations

import json

import attr
from django.core.management.base import BaseCommand

from xqueue_bridge.arguments import course_key, org_name, parsed
from xqueue_bridge.listing import WithExamples
from xqueue_bridge.shadow.formats import readiness_csv, readiness_table
from xqueue_bridge.shadow.readiness import Thresholds, readiness
from xqueue_bridge.shadow.report import parse_since


class Command(WithExamples, BaseCommand):
    help = "Which courses may move to the next stage (callback -> shadow_callback -> shadow_event -> event)."
    examples = [
        "xqueue-bridge readiness",
        "xqueue-bridge readiness --org edX --min-comparisons 50 --min-hours 12 --format csv",
        "xqueue-bridge readiness --course course-v1:edX+DemoX+2026 --format json",
    ]

    def add_arguments(self, parser):
        parser.add_argument("--course", action="append", default=None, help="only this course (repeatable)")
        parser.add_argument("--org", default=None, help="only the courses of this org")
        parser.add_argument("--since", default=None, help="count comparisons since: 24h, 7d or an ISO date")
        parser.add_argument("--min-comparisons", type=int, default=None, help="READINESS MIN_COMPARISONS")
        parser.add_argument("--min-hours", type=float, default=None, help="READINESS MIN_HOURS")
        parser.add_argument("--max-mismatch-rate", type=float, default=None, help="READINESS MAX_MISMATCH_RATE")
        parser.add_argument("--max-error-rate", type=float, default=None, help="READINESS MAX_ERROR_RATE")
        parser.add_argument("--format", choices=["table", "json", "csv"], default="table")

    def handle(self, *args, **options):
        since = parsed(options["since"] or None, parse_since, "--since")
        thresholds = Thresholds.from_settings(
            min_comparisons=options["min_comparisons"], min_hours=options["min_hours"],
            max_mismatch_rate=options["max_mismatch_rate"], max_error_rate=options["max_error_rate"],
        )
        courses = [course_key(text) for text in options["course"]] if options["course"] else None
        items = readiness(courses=courses, org=org_name(options["org"]), since=since, thresholds=thresholds)
        if options["format"] == "json":
            self.stdout.write(json.dumps(
                {"thresholds": attr.asdict(thresholds), "courses": [attr.asdict(item) for item in items]}, indent=2
            ))
        elif options["format"] == "csv":
            self.stdout.write(readiness_csv(items), ending="")
        else:
            self.stdout.write(readiness_table(items, thresholds), ending="")
