"""
``xqueue-bridge users``: create or update the LMS and grader accounts, give them their roles, list them.

``--lms NAME:PASSWORD`` and ``--grader NAME:PASSWORD`` create or update an account with that role;
``--queues NAME=Q1,Q2`` limits a grader to those queues (``NAME=*``: every queue); ``--role NAME=ROLE``
(``lms``, ``grader`` or ``none``; repeatable) gives an existing account exactly those roles, password
untouched. Accounts also come from the XQUEUE_BRIDGE_USERS setting: ``{"name": "password"}`` (legacy) or
``{"name": {"password": ..., "role": "lms" | "grader", "queues": [...]}}``. ``--user NAME:PASSWORD`` keeps
its old meaning: an account in the legacy ``xqueue`` group, with every role until one is assigned.
``--list`` shows each XQueue account with its roles.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q

from xqueue_bridge import roles
from xqueue_bridge.accounts import ensure_user
from xqueue_bridge.arguments import bad_argument
from xqueue_bridge.conf import get_setting
from xqueue_bridge.listing import WithExamples, add_format_argument, render

# ``ensure_user`` lives in xqueue_bridge.accounts (the demo uses it too); the test fixtures still import it here.
__all__ = ["Command", "ensure_user"]


def _name_and_password(option: str, item: str) -> tuple[str, str]:
    name, sep, password = item.partition(":")
    if not sep or not name or not password:
        raise bad_argument(f"{option} {name!r}...: expected NAME:PASSWORD with both parts non-empty")
    return name, password


def ensure_staff(username: str, password: str) -> bool:
    """Create or update an operator's account (the dashboard, the API, the admin); it has no XQueue role."""
    user, created = get_user_model().objects.get_or_create(username=username, defaults={"is_active": True})
    user.set_password(password)
    user.is_active = user.is_staff = user.is_superuser = True
    user.save()
    return created


class Command(WithExamples, BaseCommand):
    help = ("Create or update the LMS and grader accounts and their roles (--lms, --grader, --role, --queues), "
            "and operators' staff accounts for the dashboard, the API and the admin (--staff).")
    examples = [
        "xqueue-bridge users --lms lms:LMS_PASSWORD --grader grader:GRADER_PASSWORD",
        "xqueue-bridge users --queues grader=test-pull",
        "xqueue-bridge users --staff operator:OPERATOR_PASSWORD",
        "xqueue-bridge users --list --format csv",
    ]

    def add_arguments(self, parser):
        parser.add_argument("--lms", action="append", default=[], metavar="NAME:PASSWORD",
                            help="an account with the LMS role (submit), created or updated (repeatable)")
        parser.add_argument("--grader", action="append", default=[], metavar="NAME:PASSWORD",
                            help="an account with the grader role (pull, put results), created or updated")
        parser.add_argument("--queues", action="append", default=[], metavar="NAME=Q1,Q2",
                            help="the queues grader NAME may grade (NAME=*: every queue)")
        parser.add_argument("--role", action="append", default=[], metavar="NAME=ROLE",
                            help="give an existing account exactly these roles: lms, grader or none (repeatable)")
        parser.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD",
                            help="an account in the legacy xqueue group (every role until one is assigned)")
        parser.add_argument("--staff", action="append", default=[], metavar="NAME:PASSWORD",
                            help="an operator's staff account to create or update (repeatable)")
        parser.add_argument("--list", action="store_true", help="list the XQueue accounts and their roles")
        add_format_argument(parser)

    def handle(self, *args, **options):
        if options["list"]:
            self._list(options["format"])
            return
        staff = dict(_name_and_password("--staff", item) for item in options["staff"])
        legacy: dict[str, str] = {}
        with_role: dict[str, tuple[str, str]] = {}  # name -> (role, password)
        for name, value in (getattr(settings, "XQUEUE_BRIDGE_USERS", {}) or {}).items():
            if isinstance(value, dict):
                role = value.get("role")
                if role not in roles.ROLES or not value.get("password"):
                    raise bad_argument(f"XQUEUE_BRIDGE_USERS[{name!r}]: expected a password and a role, lms or grader")
                with_role[name] = (role, value["password"])
                if value.get("queues") is not None:
                    options["queues"].insert(0, f"{name}={','.join(value['queues'])}")
            else:
                legacy[name] = value
        for item in options["user"]:
            name, password = _name_and_password("--user", item)
            legacy[name] = password
        for role in roles.ROLES:
            for item in options[role]:
                name, password = _name_and_password(f"--{role}", item)
                with_role[name] = (role, password)
        queues = self._queues(options["queues"])
        assigned = self._roles(options["role"])
        if not (legacy or with_role or assigned or queues or staff):
            raise bad_argument("No accounts given: set XQUEUE_BRIDGE_USERS or pass --lms, --grader or --user "
                               "NAME:PASSWORD (or --role NAME=ROLE for an existing account)")
        with transaction.atomic():
            for name, password in staff.items():
                created = ensure_staff(name, password)
                self.stdout.write(f"{'created' if created else 'updated'} {name} (staff: dashboard, API, admin)")
            for name, (role, password) in with_role.items():
                created = ensure_user(name, password, role, queues.pop(name, None) if role == roles.GRADER else None)
                self.stdout.write(f"{'created' if created else 'updated'} {name}: {self._describe(name)}")
            for name, password in legacy.items():
                created = ensure_user(name, password)
                self.stdout.write(f"{'created' if created else 'updated'} {name} (group {get_setting('GROUP')})")
            for name in dict.fromkeys([*assigned, *queues]):
                user = self._existing(name, assigned, queues)
                wanted = set(assigned.get(name, roles.access_of(user).roles()))
                if name in queues:
                    wanted.add(roles.GRADER)
                roles.set_roles(user, wanted, queues.get(name))
                self.stdout.write(f"{name}: {self._describe(name)}")

    def _existing(self, name: str, assigned: dict, queues: dict):
        user = get_user_model().objects.filter(username=name).first()
        if user is None:
            option = f"--role {name}={','.join(assigned[name]) or 'none'}" if name in assigned else f"--queues {name}"
            raise bad_argument(f"{option}: no account {name!r}; create it with --lms or --grader")
        return user

    @staticmethod
    def _roles(items: list[str]) -> dict[str, list[str]]:
        assigned: dict[str, list[str]] = {}
        for item in items:
            name, sep, role = item.partition("=")
            if not sep or not name or role not in (*roles.ROLES, "none"):
                raise bad_argument(f"--role {item}: expected NAME=lms, NAME=grader or NAME=none")
            assigned.setdefault(name, [])
            if role != "none":
                assigned[name].append(role)
        return assigned

    @staticmethod
    def _queues(items: list[str]) -> dict[str, list[str] | None]:
        queues: dict[str, list[str] | None] = {}
        known = get_setting("QUEUES")
        for item in items:
            name, sep, listed = item.partition("=")
            if not sep or not name or not listed:
                raise bad_argument(f"--queues {item!r}: expected NAME=QUEUE[,QUEUE...] or NAME=*")
            if listed == "*":
                queues[name] = None
                continue
            names = [queue.strip() for queue in listed.split(",") if queue.strip()]
            for queue in names:
                if queue not in known:
                    raise bad_argument(f"--queues {item}: unknown queue {queue!r}; valid queues: {', '.join(known)}")
            queues[name] = names
        return queues

    @staticmethod
    def _describe(name: str) -> str:
        return roles.access_of(get_user_model().objects.get(username=name)).describe()

    def _list(self, fmt: str = "table") -> None:
        model = get_user_model()
        in_role = model.objects.filter(roles.role_groups_filter()).values("pk")
        listed = model.objects.filter(Q(pk__in=in_role) | Q(groups__name=get_setting("GROUP")))
        rows = []
        for user in listed.distinct().order_by(model.USERNAME_FIELD).prefetch_related("groups"):
            access = roles.access_from_groups(group.name for group in user.groups.all())
            if access.legacy:
                text = (f"every role (legacy {get_setting('GROUP')!r} group; assign one with "
                        f"--role {user.username}=lms or --role {user.username}=grader)")
            else:
                text = access.describe()
            if not user.is_active:
                text += " (inactive)"
            rows.append({"username": user.username, "access": text, "active": user.is_active})
        if fmt == "table":
            for row in rows:
                self.stdout.write(f"{row['username']}: {row['access']}")
        else:
            self.stdout.write(render(rows, ["username", "access", "active"], fmt), ending="")
