"""
``xqueue-bridge users``: create or update the LMS and grader accounts and put them in the XQueue group.

Accounts come from the XQUEUE_BRIDGE_USERS setting (``{"username": "password"}``, as XQueue's USERS)
and from ``--user NAME:PASSWORD`` options; an existing account gets the password given. ``--list``
shows who is in the group.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from xqueue_bridge.accounts import ensure_user
from xqueue_bridge.conf import get_setting
from xqueue_bridge.listing import WithExamples, add_format_argument, render

# ``ensure_user`` lives in xqueue_bridge.accounts (the demo uses it too); the test fixtures still import it here.
__all__ = ["Command", "ensure_user"]


def ensure_staff(username: str, password: str) -> bool:
    """Create or update an operator's account (the dashboard, the API, the admin); not in the XQueue group."""
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"is_active": True})
    user.set_password(password)
    user.is_active = user.is_staff = user.is_superuser = True
    user.save()
    return created


def _pairs(items: list[str], option: str) -> dict:
    pairs = {}
    for item in items:
        name, sep, password = item.partition(":")
        if not sep or not name or not password:
            raise CommandError(f"{option} {name!r}...: expected NAME:PASSWORD with both parts non-empty")
        pairs[name] = password
    return pairs


class Command(WithExamples, BaseCommand):
    help = ("Create or update the LMS and grader accounts (XQUEUE_BRIDGE_USERS, --user) in the xqueue group, "
            "and operators' staff accounts for the dashboard and the API (--staff).")
    examples = [
        "xqueue-bridge users --user lms:LMS_PASSWORD --user grader:GRADER_PASSWORD",
        "xqueue-bridge users --staff operator:OPERATOR_PASSWORD",
        "xqueue-bridge users --list --format csv",
    ]

    def add_arguments(self, parser):
        parser.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD",
                            help="an account to create or update (repeatable)")
        parser.add_argument("--staff", action="append", default=[], metavar="NAME:PASSWORD",
                            help="an operator's staff account to create or update (repeatable)")
        parser.add_argument("--list", action="store_true", help="list the members of the xqueue group")
        add_format_argument(parser)

    def handle(self, *args, **options):
        if options["list"]:
            members = get_user_model().objects.filter(groups__name=get_setting("GROUP")).order_by("username")
            if options["format"] == "table":
                for user in members:
                    self.stdout.write(f"{user.username}{'' if user.is_active else ' (inactive)'}")
                return
            rows = [{"username": user.username, "active": user.is_active} for user in members]
            self.stdout.write(render(rows, ["username", "active"], options["format"]), ending="")
            return
        staff = _pairs(options["staff"], "--staff")
        accounts = dict(getattr(settings, "XQUEUE_BRIDGE_USERS", {}) or {})
        accounts.update(_pairs(options["user"], "--user"))
        if not accounts and not staff:
            raise CommandError(
                "No accounts given: set XQUEUE_BRIDGE_USERS or pass --user NAME:PASSWORD (or --staff NAME:PASSWORD)"
            )
        with transaction.atomic():
            for name, password in staff.items():
                created = ensure_staff(name, password)
                self.stdout.write(f"{'created' if created else 'updated'} {name} (staff: dashboard, API, admin)")
            for name, password in accounts.items():
                created = ensure_user(name, password)
                self.stdout.write(f"{'created' if created else 'updated'} {name} (group {get_setting('GROUP')})")
