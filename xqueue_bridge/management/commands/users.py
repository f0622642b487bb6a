"""
``xqueue-bridge users``: create or update the LMS and grader accounts and put them in the XQueue group.

Accounts come from the XQUEUE_BRIDGE_USERS setting (``{"username": "password"}``, as XQueue's USERS)
and from ``--user NAME:PASSWORD`` options; an existing account gets the password given. ``--list``
shows who is in the group.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from xqueue_bridge.conf import get_setting
from xqueue_bridge.intake.accounts import set_service_password


def ensure_user(username: str, password: str) -> bool:
    """
    Create or update ``username`` with ``password`` in the XQueue group; True if it was created. A long
    secret is stored with the service hasher (see ``xqueue_bridge.intake.accounts``).
    """
    group, _ = Group.objects.get_or_create(name=get_setting("GROUP"))
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"is_active": True})
    set_service_password(user, password)
    user.is_active = True
    user.save()
    user.groups.add(group)
    return created


class Command(BaseCommand):
    help = "Create or update the LMS and grader accounts (XQUEUE_BRIDGE_USERS, --user) in the xqueue group."

    def add_arguments(self, parser):
        parser.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD",
                            help="an account to create or update (repeatable)")
        parser.add_argument("--list", action="store_true", help="list the members of the xqueue group")

    def handle(self, *args, **options):
        if options["list"]:
            members = get_user_model().objects.filter(groups__name=get_setting("GROUP")).order_by("username")
            for user in members:
                self.stdout.write(f"{user.username}{'' if user.is_active else ' (inactive)'}")
            return
        accounts = dict(getattr(settings, "XQUEUE_BRIDGE_USERS", {}) or {})
        for item in options["user"]:
            name, sep, password = item.partition(":")
            if not sep or not name or not password:
                raise CommandError(f"--user {name!r}...: expected NAME:PASSWORD with both parts non-empty")
            accounts[name] = password
        if not accounts:
            raise CommandError("No accounts given: set XQUEUE_BRIDGE_USERS or pass --user NAME:PASSWORD")
        with transaction.atomic():
            for name, password in accounts.items():
                created = ensure_user(name, password)
                self.stdout.write(f"{'created' if created else 'updated'} {name} (group {get_setting('GROUP')})")
