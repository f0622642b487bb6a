"""``xqueue-bridge replay``: queue given-up deliveries again, selected by id, course, queue or time."""

from __future__ import annotations

from datetime import UTC

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from xqueue_bridge.arguments import bad_argument, course_key
from xqueue_bridge.cockpit.serializers import ReplaySerializer
from xqueue_bridge.listing import WithExamples, add_format_argument, render
from xqueue_bridge.outbox import replay

COLUMNS = ["id", "submission", "course", "path", "status", "replay", "last_error"]


def _when(value: str | None, option: str):
    if value is None:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise bad_argument(f"{option} {value!r} is not a date and time; expected e.g. 2026-11-25T14:00:00+00:00")
    if timezone.is_naive(parsed):  # a time without an offset is read as UTC, the bridge's time zone
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


class Command(WithExamples, BaseCommand):
    help = "Queue dead deliveries again (fresh retry budget). --dry-run lists what would be replayed."
    examples = [
        "xqueue-bridge replay --course course-v1:edX+DemoX+2026 --dry-run",
        "xqueue-bridge replay --queue test-pull --since 2026-11-25T00:00:00 --dry-run --format json",
        "xqueue-bridge replay --id 42 --by alice",
    ]

    def add_arguments(self, parser):
        parser.add_argument("--id", type=int, action="append", dest="ids", default=[], help="delivery id")
        parser.add_argument("--course", default=None)
        parser.add_argument("--queue", default=None)
        parser.add_argument("--since", default=None, help="created at or after (ISO 8601)")
        parser.add_argument("--until", default=None, help="created before (ISO 8601)")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--by", default="cli", help="who replays (kept in the delivery's history)")
        add_format_argument(parser)

    def handle(self, *args, **options):
        if not (options["ids"] or options["course"] or options["queue"] or options["since"] or options["until"]):
            raise bad_argument("Say which deliveries: --id, --course, --queue, --since or --until")
        selected = replay.select(
            ids=options["ids"], course_id=course_key(options["course"]), queue_name=options["queue"],
            since=_when(options["since"], "--since"), until=_when(options["until"], "--until"),
        )
        listed = list(selected)
        replayed = [] if options["dry_run"] else replay.replay(selected, changed_by=options["by"])
        data = ReplaySerializer({"dry_run": options["dry_run"], "selected": listed, "replayed": replayed}).data
        if options["format"] != "table":
            rows = [dict(row) for row in data["selected"]]
            text = render(rows, COLUMNS, "csv") if options["format"] == "csv" else render(dict(data), [], "json")
            self.stdout.write(text, ending="")
            return
        for delivery in listed:
            self.stdout.write(
                f"delivery {delivery.pk} (submission {delivery.submission_id}, {delivery.path}, "
                f"{delivery.submission.course_id}): {replay.describe(delivery)}; last error: {delivery.last_error}"
            )
        if options["dry_run"]:
            self.stdout.write(f"{len(listed)} deliveries would be replayed (dry run: nothing changed)")
            return
        self.stdout.write(f"{len(replayed)} deliveries queued again")
