"""
``xqueue-bridge rollout``: the stage of courses and orgs, and the changes that move them.

    rollout show [COURSE_OR_ORG ...]                 stage and why (no argument: every known course)
    rollout set COURSE_OR_ORG STAGE --reason TEXT    callback | shadow_callback | shadow_event | event
    rollout unset COURSE_OR_ORG --reason TEXT        the next layer (org, percentage, global) decides
    rollout percentage FLAG PERCENT --reason TEXT    FLAG: event_delivery | shadow_compare; 0 to 100
    rollout history [COURSE_OR_ORG] [--limit N]      newest first
    rollout flags                                    each flag's percentage, global default, overrides

Every action takes ``--format table`` (default) or ``--format json``; changes take ``--by NAME`` (default:
the operating-system user). Bad input (a course key or org that does not parse, an unknown stage or flag,
a percentage outside 0–100, no reason) is refused with a message and nothing is written.
"""

from __future__ import annotations

import getpass
import json

import attr
from django.core.management.base import BaseCommand, CommandError

from toggles.api import TogglesError, course_ref
from xqueue_bridge.errors import UnknownStage
from xqueue_bridge.listing import WithExamples, add_format_argument, render
from xqueue_bridge.stage import rollout
from xqueue_bridge.stage.decide import FLAGS_OF_STAGE

STAGE_COLUMNS = ("target", "kind", "stage", "reason")
HISTORY_COLUMNS = ("changed_at", "changed_by", "scope", "target", "change", "reason")
FLAG_COLUMNS = tuple(field.name for field in attr.fields(rollout.FlagState))


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


class Command(WithExamples, BaseCommand):
    help = "Show and change the rollout stage of courses and orgs (course by course, then orgs, then all)."
    examples = [
        'xqueue-bridge rollout set course-v1:edX+DemoX+2026 shadow_callback --reason "pilot"',
        "xqueue-bridge rollout show course-v1:edX+DemoX+2026 --format csv",
        'xqueue-bridge rollout set edX shadow_callback --reason "whole org"',
        "xqueue-bridge rollout history edX --format json",
        'xqueue-bridge rollout percentage shadow_compare 10 --reason "first tenth"',
        "xqueue-bridge rollout flags",
    ]

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        def action(name, help_text):
            sub = actions.add_parser(name, help=help_text, description=help_text)
            add_format_argument(sub)
            return sub

        def change(sub):
            sub.add_argument("--reason", required=True, help="Why the change is made (kept in the history).")
            sub.add_argument("--by", default=_default_user(), help="Who makes the change (default: you).")

        show = action("show", "Show the stage of courses or orgs, and why.")
        show.add_argument("targets", nargs="*", metavar="COURSE_OR_ORG", help="Default: every known course.")

        set_ = action("set", "Put a course, or the courses of an org, in a stage.")
        set_.add_argument("target", metavar="COURSE_OR_ORG")
        set_.add_argument("stage", metavar="STAGE", help=f"One of {', '.join(FLAGS_OF_STAGE)}.")
        change(set_)

        unset = action("unset", "Remove the stage set for a course or org.")
        unset.add_argument("target", metavar="COURSE_OR_ORG")
        change(unset)

        percentage = action("percentage", "Turn a flag on for a percentage of the courses.")
        percentage.add_argument("flag", metavar="FLAG", help="event_delivery or shadow_compare.")
        percentage.add_argument("percent", metavar="PERCENT", help="0 to 100 (0 turns the percentage off).")
        change(percentage)

        history = action("history", "Show the changes, newest first.")
        history.add_argument("target", nargs="?", metavar="COURSE_OR_ORG", help="Default: every change.")
        history.add_argument("--limit", type=int, default=None)

        action("flags", "Show each flag's percentage, global default and overrides in effect.")

    def handle(self, *args, **options):
        try:
            rows, columns = getattr(self, f"_{options['action']}")(options)
        except (TogglesError, UnknownStage) as error:
            raise CommandError(str(error)) from None
        if options["format"] == "json":
            self.stdout.write(json.dumps(rows, indent=2, default=str))
        elif options["format"] == "csv":
            self.stdout.write(render(rows, columns, "csv"), ending="")
        else:
            self.stdout.write(_table(rows, columns))

    def _show(self, options):
        rows = []
        known = None
        for text in options["targets"] or rollout.known_courses():
            rows.append(_stage_row(text))
            if rows[-1]["kind"] == "org":
                org = rows[-1]["target"]
                known = rollout.known_courses() if known is None else known
                rows += [_stage_row(course) for course in known if course_ref(course).org == org]
        return rows, STAGE_COLUMNS

    def _set(self, options):
        who = {"reason": options["reason"], "changed_by": options["by"]}
        rollout.set_stage(options["target"], options["stage"], **who)
        return [_stage_row(options["target"])], STAGE_COLUMNS

    def _unset(self, options):
        rollout.unset(options["target"], reason=options["reason"], changed_by=options["by"])
        return [_stage_row(options["target"])], STAGE_COLUMNS

    def _percentage(self, options):
        who = {"reason": options["reason"], "changed_by": options["by"]}
        warning = rollout.set_percentage(options["flag"], options["percent"], **who)
        if warning:
            self.stderr.write(f"Warning: {warning}")
        return self._flags(options)

    def _history(self, options):
        course = org = None
        if options["target"]:
            target = rollout.parse_target(options["target"])
            course, org = (target.value, None) if target.kind == "course" else (None, target.value)
        changes = rollout.history(course=course, org=org, limit=options["limit"])
        rows = [attr.asdict(change) for change in changes]
        for row in rows:
            row["changed_at"] = row["changed_at"].isoformat(timespec="seconds")
        return rows, HISTORY_COLUMNS

    def _flags(self, options):
        return [attr.asdict(state) for state in rollout.flag_states()], FLAG_COLUMNS


def _stage_row(text: str) -> dict:
    """The stage of a course (with each flag's decision) or of an org."""
    target = rollout.parse_target(text)
    if target.kind == "org":
        decision = rollout.stage_of_org(target.value)
        return {"target": target.value, "kind": "org", "stage": decision.stage, "reason": decision.reason}
    decision = rollout.stage_of(target.value)
    return {
        "target": target.value,
        "kind": "course",
        "stage": decision.stage,
        "reason": decision.reason,
        "flags": {flag.name: attr.asdict(flag.evaluate(target.value)) for flag in rollout.FLAGS},
    }


def _table(rows: list[dict], columns: tuple[str, ...]) -> str:
    if not rows:
        return "(nothing)"
    cells = [[str(row.get(column, "")) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]

    def line(values):
        return "  ".join(value.ljust(width) for value, width in zip(values, widths, strict=True)).rstrip()

    return "\n".join([line([column.upper() for column in columns]), *(line(values) for values in cells)])
