"""
The course flags defined in this process, by name.

A :class:`~toggles.flags.CourseFlag` adds itself here when it is defined; validation, the cache, the admin
and the report look flags up here, below the machinery that evaluates them.
"""

from __future__ import annotations

from edx_toggles.toggles import WaffleFlag

from toggles.exceptions import UnknownFlag

# Every entry is a CourseFlag; the registry only needs what a WaffleFlag has (its name).
_registry: dict[str, WaffleFlag] = {}


def register(flag: WaffleFlag) -> None:
    """Make ``flag`` known by its name (a flag defined again under the same name replaces the first)."""
    _registry[flag.name] = flag


def get_flag(name: str) -> WaffleFlag:
    """The course flag named ``name``; raises :class:`UnknownFlag` if no CourseFlag has that name."""
    try:
        return _registry[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(_registry)) or "none is defined"
        raise UnknownFlag(f"No course flag is named {name!r}; known course flags: {known}.") from None


def course_flags() -> list[WaffleFlag]:
    """Every course flag defined so far, by name."""
    return [_registry[name] for name in sorted(_registry)]


def course_flag_names() -> set[str]:
    return set(_registry)
