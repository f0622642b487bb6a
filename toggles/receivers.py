"""Keep the snapshots of course flags in step with writes this process does not make through toggles."""

from __future__ import annotations

from toggles import cache
from toggles.flags import course_flag_names


def waffle_flag_changed(sender, instance, using=None, **kwargs) -> None:
    """A waffle Flag row of a course flag (its global layer) was saved or deleted."""
    if instance.name in course_flag_names():
        cache.record_write(using=using)


def database_reset(sender, **kwargs) -> None:
    """After ``migrate`` or ``flush`` (which empties tables without signals) nothing cached holds."""
    cache.clear()


def setting_changed(sender, setting, **kwargs) -> None:
    if setting == "TOGGLES":
        cache.clear()
