"""
Settings of the ``toggles`` app, read through one helper with documented defaults.

Every setting lives in the ``TOGGLES`` dict of the Django settings; a key that is absent takes the
default below. Each is annotated where it is defined, in the format Open edX's code_annotations reads.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # .. setting_name: TOGGLES['CACHE_TTL']
    # .. setting_default: 5.0
    # .. setting_description: Seconds a process answers from its snapshot of overrides and percentages
    #   before it checks the database for changes made by other processes. A change made in this process
    #   takes effect as soon as its transaction commits; in every other process within CACHE_TTL seconds.
    #   0 checks on every decision (four small queries each time).
    "CACHE_TTL": 5.0,
    # .. setting_name: TOGGLES['AUTODISCOVER']
    # .. setting_default: True
    # .. setting_description: Import each installed app's ``flags`` module at start-up, so that every course
    #   flag is registered (admin choices, the toggle state report, the ``rollout`` command) before
    #   anything evaluates it.
    "AUTODISCOVER": True,
}


def get_setting(name: str) -> Any:
    """Return ``TOGGLES[name]``, or its documented default."""
    if name not in DEFAULTS:
        raise KeyError(f"Unknown toggles setting {name!r}; known settings: {', '.join(sorted(DEFAULTS))}")
    configured = getattr(settings, "TOGGLES", None) or {}
    return configured.get(name, DEFAULTS[name])
