"""
``xqueue-bridge rollout``: the stage of courses and orgs, and the changes that move them.

    rollout show [COURSE_OR_ORG ...]                 stage and why (no argument: every known course)
    rollout set COURSE_OR_ORG STAGE --reason TEXT    callback | shadow_callback | shadow_event | event
    rollout unset COURSE_OR_ORG --reason TEXT        the next layer (org, percentage, global) decides
    rollout percentage FLAG PERCENT --reason TEXT    FLAG: event_delivery | shadow_compare; 0 to 100
    rollout history [COURSE_OR_ORG] [--limit N]      newest first
    rollout flags                                    each flag's percentage, global default, overrides
    rollout forced [--all]                           forced moves not yet cleared (--all: every one)
    rollout clear-forced ID --reason TEXT            an operator has looked at a forced move

Every action takes ``--format table`` (default) or ``--format json``; changes take ``--by NAME`` (default:
the operating-system user). Bad input (a course key or org that does not parse, an unknown stage or flag,
a percentage outside 0–100, no reason) is refused with a one-line message, exit code 2, and nothing is
written. Changes are guarded (``xqueue_bridge.stage.guard``): a course moved forward past a shadow stage
it has not passed, alone or as one of an org's or a percentage's courses, is refused with the reasons
(exit code 1) unless ``--force`` is given (the move is recorded: ``rollout forced``); a course or org the
bridge has never seen needs ``--allow-unseen``. Moving back is always allowed.
"""

from __future__ import annotations

import getpass
import json

import attr
from django.core.management.base import BaseCommand, CommandError

from toggles.api import TogglesError, course_ref
from xqueue_bridge.errors import StageMoveRefused, UnknownForcedMove, UnknownStage
from xqueue_bridge.listing import WithExamples, add_format_argument, render
from xqueue_bridge.stage import rollout
from xqueue_bridge.stage.decide import FLAGS_OF_STAGE

STAGE_COLUMNS = ("target", "kind", "stage", "reason")
HISTORY_COLUMNS = ("changed_at", "changed_by", "scope", "target", "change", "reason", "forced")
FORCED_COLUMNS = ("id", "created_at", "changed_by", "course_id", "from_stage", "to_stage", "reason", "unmet", "cleared")
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

        def change(sub, *, guarded=True, unseen=True):
            sub.add_argument("--reason", required=True, help="Why the change is made (kept in the history).")
            sub.add_argument("--by", default=_default_user(), help="Who makes the change (default: you).")
            if guarded:
                sub.add_argument("--force", action="store_true",
                                 help="Move courses forward past readiness that is not met (recorded with --reason).")
            if unseen:
                sub.add_argument("--allow-unseen", action="store_true",
                                 help="Accept a course or org the bridge has never seen a submission for.")

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
        change(percentage, unseen=False)

        history = action("history", "Show the changes, newest first.")
        history.add_argument("target", nargs="?", metavar="COURSE_OR_ORG", help="Default: every change.")
        history.add_argument("--limit", type=int, default=None)

        action("flags", "Show each flag's percentage, global default and overrides in effect.")

        forced = action("forced", "Show the moves forced past readiness that no operator has cleared.")
        forced.add_argument("--all", action="store_true", help="Also the cleared ones.")

        clear = action("clear-forced", "Mark a forced move as looked at (the switch-off check lists open ones).")
        clear.add_argument("id", type=int, metavar="ID", help="The id `rollout forced` shows.")
        change(clear, guarded=False, unseen=False)

    def handle(self, *args, **options):
        try:
            rows, columns = getattr(self, f"_{options['action'].replace('-', '_')}")(options)
        except (TogglesError, UnknownStage, UnknownForcedMove) as error:
            raise CommandError(" ".join(str(error).split()), returncode=2) from None
        except StageMoveRefused as refused:
            raise CommandError(refused.message, returncode=1) from None
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
        forced = rollout.set_stage(options["target"], options["stage"], **_who(options))
        self._report_forced(forced)
        return [_stage_row(options["target"])], STAGE_COLUMNS

    def _unset(self, options):
        self._report_forced(rollout.unset(options["target"], **_who(options)))
        return [_stage_row(options["target"])], STAGE_COLUMNS

    def _report_forced(self, forced) -> None:
        for move in forced:
            self.stderr.write(
                f"Forced: {move.course_id} {move.from_stage} -> {move.to_stage} past: {move.unmet} "
                f"(recorded as forced move {move.pk})"
            )

    def _forced(self, options):
        return [_forced_row(move) for move in rollout.forced_moves(open_only=not options["all"])], FORCED_COLUMNS

    def _clear_forced(self, options):
        move = rollout.clear_forced(options["id"], reason=options["reason"], changed_by=options["by"])
        return [_forced_row(move)], FORCED_COLUMNS

    def _percentage(self, options):
        who = {"reason": options["reason"], "changed_by": options["by"], "force": options["force"]}
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


def _who(options) -> dict:
    return {
        "reason": options["reason"], "changed_by": options["by"], "force": options["force"],
        "allow_unseen": options["allow_unseen"],
    }


def _forced_row(move) -> dict:
    return {
        "id": move.pk, "created_at": move.created_at.isoformat(timespec="seconds"), "changed_by": move.changed_by,
        "course_id": move.course_id, "from_stage": move.from_stage, "to_stage": move.to_stage,
        "reason": move.reason, "unmet": move.unmet,
        "cleared": f"{move.cleared_at:%Y-%m-%d} by {move.cleared_by}: {move.cleared_reason}" if move.cleared_at else "",
    }


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
