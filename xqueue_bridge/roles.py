"""
Roles of the XQueue accounts, kept as Django groups so the admin and ``xqueue-bridge users`` manage them.

* ``lms`` (``LMS_GROUP``): submit. Only this role can supersede a learner's live submission.
* ``grader`` (``GRADER_GROUP`` for every queue, ``GRADER_GROUP:<queue>`` for one): get_queuelen,
  get_submission and put_result.
* Legacy: an active member of ``GROUP`` ("xqueue") with neither role keeps both, for every queue, until
  the operator assigns one (system check ``xqueue_bridge.W002``).

Operators are Django staff accounts (the admin, the commands); no role makes an account staff.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import attr
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Q

from xqueue_bridge.conf import get_setting

LMS = "lms"
GRADER = "grader"
ROLES = (LMS, GRADER)


def queue_group(queue_name: str) -> str:
    """The group of graders of ``queue_name`` alone."""
    return f"{get_setting('GRADER_GROUP')}:{queue_name}"


@attr.frozen
class Access:
    """What one account may do on the XQueue API."""

    lms: bool = False
    grader: bool = False
    queues: frozenset[str] | None = None  # a grader's queues; None: every queue
    legacy: bool = False  # only in the legacy group: every role until one is assigned

    @property
    def any(self) -> bool:
        return self.lms or self.grader

    def roles(self) -> tuple[str, ...]:
        return tuple(role for role, held in ((LMS, self.lms), (GRADER, self.grader)) if held)

    def may_grade(self, queue_name: str) -> bool:
        return self.grader and (self.queues is None or queue_name in self.queues)

    def describe(self) -> str:
        """In words, as ``xqueue-bridge users --list`` and the admin show it."""
        if self.legacy:
            return f"every role (legacy {get_setting('GROUP')!r} group)"
        if not self.any:
            return "no role"
        parts = [LMS] if self.lms else []
        if self.grader:
            scope = "every queue" if self.queues is None else "queues " + ", ".join(sorted(self.queues))
            parts.append(f"{GRADER} ({scope})")
        return ", ".join(parts)


def access_from_groups(names: Iterable[str], active: bool = True) -> Access:
    """The access given by membership of the groups ``names``."""
    if not active:
        return Access()
    names = set(names)
    lms_group, grader_group = get_setting("LMS_GROUP"), get_setting("GRADER_GROUP")
    prefix = grader_group + ":"
    queues = frozenset(name.removeprefix(prefix) for name in names if name.startswith(prefix))
    lms, all_queues = lms_group in names, grader_group in names
    if not (lms or all_queues or queues):
        if get_setting("GROUP") in names:
            return Access(lms=True, grader=True, queues=None, legacy=True)
        return Access()
    return Access(lms=lms, grader=all_queues or bool(queues), queues=None if all_queues else queues)


def access_of(user) -> Access:
    """What ``user`` may do (one query)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Access()
    return access_from_groups(user.groups.values_list("name", flat=True))


# Per process: user pk -> (monotonic time read, the role settings it was read under, its access).
_cached: dict[int, tuple[float, tuple, Access]] = {}
_cached_lock = threading.Lock()
_generation = 0  # moved on by each forget: a read begun before a forget is not kept


def cached_access_of(user) -> Access:
    """
    ``access_of`` as the XQueue views ask it on every request: an account's groups are read at most once
    per ROLE_CACHE_TTL seconds in a process. Bound: a role removed by another process takes effect within
    ROLE_CACHE_TTL; one removed in this process (``set_roles``, the admin), a deactivated account (the user
    row is read by each request) and an account that is no longer authenticated, at once.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return Access()
    ttl = get_setting("ROLE_CACHE_TTL")
    if not ttl:
        return access_of(user)
    names = (get_setting("GROUP"), get_setting("LMS_GROUP"), get_setting("GRADER_GROUP"))
    now = time.monotonic()
    with _cached_lock:
        hit = _cached.get(user.pk)
        generation = _generation
    if hit is not None and hit[1] == names and now - hit[0] < ttl:
        return hit[2]
    access = access_of(user)
    with _cached_lock:
        if generation == _generation:
            _cached[user.pk] = (now, names, access)
    return access


def forget_cached_access(sender=None, **kwargs) -> None:
    """Drop the cached roles of every account (a group membership, a group or an account changed here)."""
    global _generation
    with _cached_lock:
        _cached.clear()
        _generation += 1


def role_groups_filter(prefix: str = "") -> Q:
    """Accounts in a role group (``prefix``: the path to the user from the queried model)."""
    return (Q(**{f"{prefix}groups__name__in": [get_setting("LMS_GROUP"), get_setting("GRADER_GROUP")]})
            | Q(**{f"{prefix}groups__name__startswith": get_setting("GRADER_GROUP") + ":"}))


def legacy_accounts():
    """Active accounts only in the legacy group: they hold every role until one is assigned."""
    users = get_user_model().objects.filter(is_active=True, groups__name=get_setting("GROUP"))
    with_role = get_user_model().objects.filter(role_groups_filter()).values("pk")
    return users.exclude(pk__in=with_role).distinct().order_by(get_user_model().USERNAME_FIELD)


def role_group_names(queue_names: Iterable[str] = ()) -> list[str]:
    return [get_setting("LMS_GROUP"), get_setting("GRADER_GROUP"), *(queue_group(q) for q in queue_names)]


def set_roles(user, roles: Iterable[str], queues: Iterable[str] | None = None) -> Access:
    """
    Give ``user`` exactly ``roles`` (``queues``: a grader's queues, None for every queue). The account
    leaves the legacy group: from now on its roles alone say what it may do.
    """
    roles = set(roles)
    unknown = roles - set(ROLES)
    if unknown:
        raise ValueError(f"unknown role {sorted(unknown)[0]!r}; expected one of {', '.join(ROLES)}")
    current = user.groups.filter(
        Q(name__in=[get_setting("GROUP"), get_setting("LMS_GROUP"), get_setting("GRADER_GROUP")])
        | Q(name__startswith=get_setting("GRADER_GROUP") + ":")
    )
    user.groups.remove(*current)
    wanted = []
    if LMS in roles:
        wanted.append(get_setting("LMS_GROUP"))
    if GRADER in roles:
        wanted += [get_setting("GRADER_GROUP")] if queues is None else [queue_group(q) for q in queues]
    user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in wanted))
    return access_of(user)
