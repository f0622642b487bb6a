"""
``xqueue-bridge switch-off --check``: is it safe to remove the shim? Exit 0 and the steps when it is;
exit 1 and everything that remains when it is not (docs/how-to/switch-off.rst is the runbook).

It only reads: switching off is done in the LMS and by stopping the bridge, following the printed steps.
"""

from __future__ import annotations

import json

import attr
from django.core.management.base import BaseCommand, CommandError

from xqueue_bridge import switch_off
from xqueue_bridge.arguments import bad_argument

NOT_CLEAR = 1


class Command(BaseCommand):
    help = "Check whether the shim can be switched off: exit 0 with the steps, or 1 with what remains."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true",
                            help="Check only (the command never changes anything; the flag says so in scripts).")
        parser.add_argument("--days", type=float, default=None,
                            help="Courses with submissions in the last DAYS days must be in event "
                                 "(setting SWITCH_OFF RECENT_DAYS, default 30).")
        parser.add_argument("--format", choices=("table", "json"), default="table")

    def handle(self, *args, **options):
        if options["days"] is not None and not options["days"] > 0:
            raise bad_argument(f"--days {options['days']:g}: expected a number of days above 0")
        result = switch_off.check(recent_days=options["days"])
        if options["format"] == "json":
            self.stdout.write(json.dumps(attr.asdict(result), indent=2))
        else:
            self.stdout.write(_text(result))
        if not result.clear:
            raise CommandError(
                f"Not yet: {sum(b.count for b in result.blockers)} thing(s) remain before the shim can be switched "
                "off (listed above).", returncode=NOT_CLEAR,
            )


def _text(result: switch_off.SwitchOffCheck) -> str:
    lines = []
    for blocker in result.blockers:
        lines.append(f"NOT CLEAR  {blocker.condition}: {blocker.count}")
        lines += [f"    {item}" for item in blocker.items]
        lines.append(f"    what to do: {blocker.fix}")
    for flag in result.flags:
        lines.append(f"flag {flag['flag']}: target removal date {flag['target_removal_date']}")
    if result.clear:
        lines += ["", *switch_off.STEPS]
    return "\n".join(lines)
