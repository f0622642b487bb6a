"""Keep the snapshots of course flags in step with every write: history rows, waffle flags, a reset database."""

from __future__ import annotations

from toggles import cache
from toggles.registry import course_flag_names


def history_written(sender, using=None, **kwargs) -> None:
    """History rows of a course flag were added (``toggles.signals.history_written``)."""
    cache.record_write(using=using)


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
