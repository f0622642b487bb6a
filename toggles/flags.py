"""
Course-scoped flags that give the same answer in a request, a worker, a signal receiver and a command.

A :class:`CourseFlag` is an edx-toggles ``WaffleFlag`` (so it is listed in the toggle state report), but
it never looks at the request. For a course it answers, in this order:

1. the course's override (force on / force off), if it has one;
2. the override of the course's organisation (``course_key.org``);
3. the flag's percentage of courses: on if the course's stable bucket is in (see ``toggles.buckets``);
4. the waffle flag's "Everyone": on only if it is set to Yes. Its percentages, groups and cookies, which
   are random per request or depend on the user, are ignored.
"""

from __future__ import annotations

from edx_toggles.toggles import WaffleFlag
from opaque_keys.edx.keys import CourseKey

from toggles.buckets import bucket
from toggles.cache import store
from toggles.data import FlagDecision
from toggles.keys import CourseRef, course_ref, validate_org
from toggles.registry import course_flag_names, course_flags, get_flag, register
from toggles.snapshot import format_percent

__all__ = ["CourseFlag", "FlagDecision", "course_flag_names", "course_flags", "get_flag"]


class CourseFlag(WaffleFlag):
    """
    A waffle flag decided per course: course override, org override, percentage of courses, "Everyone".

    Define it at module level (edx-toggles keeps its instances in a weak set), with the toggle annotations::

        EVENT_DELIVERY = CourseFlag("xqueue_bridge.event_delivery", __name__)

    ``bucket_namespace`` (default: the flag's name) is what the course's bucket is hashed with. Flags that
    share a namespace put the courses in the same order, so their percentages nest: at the same or a
    lower percentage, one flag is on only for courses the other is on for.
    """

    def __init__(self, name: str, module_name: str, log_prefix: str = "", *, bucket_namespace: str = ""):
        super().__init__(name, module_name, log_prefix)
        self.bucket_namespace = bucket_namespace or name
        register(self)

    def is_enabled(self, course_key: CourseKey | str) -> bool:  # type: ignore[override]
        """Whether the flag is on for ``course_key`` (a CourseKey or its string)."""
        return self.evaluate(course_key).enabled

    def evaluate(self, course_key: CourseKey | CourseRef | str) -> FlagDecision:
        """Whether the flag is on for ``course_key``, which layer decided it, and why."""
        ref = course_ref(course_key)
        if store.forced:
            forced = _forced(self.name, ref)
            if forced is not None:
                return forced
        snapshot = store.get(self.name)
        decision = snapshot.courses.get(ref.key)
        if decision is not None:
            return decision
        decision = snapshot.orgs.get(ref.org)
        if decision is not None:
            return decision
        if snapshot.threshold and bucket(self.bucket_namespace, ref.key) < snapshot.threshold:
            return snapshot.in_bucket
        return snapshot.default

    def evaluate_org(self, org: str) -> FlagDecision:
        """
        What the flag says for the courses of ``org`` that have no override of their own: the org override,
        else the global default (whose reason names the percentage, which picks courses one by one).
        """
        validate_org(org)
        if store.forced:
            forced = store.forced.get((self.name, "org", org)) or store.forced.get((self.name, "global", ""))
            if forced is not None:
                return forced
        snapshot = store.get(self.name)
        decision = snapshot.orgs.get(org)
        if decision is not None:
            return decision
        if snapshot.threshold and not snapshot.default.enabled:
            return FlagDecision(
                False,
                "global",
                f"global default; on for the courses in the {format_percent(snapshot.percent)}% bucket",
            )
        return snapshot.default

    def bucket(self, course_key: CourseKey | str) -> int:
        """The stable bucket (0..9,999) of ``course_key`` for this flag (and its bucket namespace)."""
        return bucket(self.bucket_namespace, course_ref(course_key).key)

    def percentage(self):
        """The flag's percentage of courses in effect (a Decimal), or None."""
        return store.get(self.name).percent


def _forced(flag_name: str, ref: CourseRef) -> FlagDecision | None:
    forced = store.forced
    return (
        forced.get((flag_name, "course", ref.key))
        or forced.get((flag_name, "org", ref.org))
        or forced.get((flag_name, "global", ""))
    )
