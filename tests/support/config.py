"""The bridge's settings as a test changes them: ``XQUEUE_BRIDGE`` overrides and a retry policy that is quick."""

from __future__ import annotations

from django.conf import settings
from django.test import override_settings

# Retries within a test's patience: a few attempts, tens of milliseconds apart.
FAST_RETRY = {"max_attempts": 8, "max_age": 3600, "backoff_factor": 0.02, "backoff_max": 0.1, "jitter": 0.5}


def bridge_settings(*, shadow: dict | None = None, guardrail: dict | None = None, **overrides):
    """
    ``XQUEUE_BRIDGE`` with ``overrides``, for a ``with`` block or as a decorator; ``shadow`` and
    ``guardrail`` are merged into their own dicts.
    """
    merged = {**settings.XQUEUE_BRIDGE, **overrides}
    if shadow is not None:
        merged["SHADOW"] = {**settings.XQUEUE_BRIDGE.get("SHADOW", {}), **shadow}
    if guardrail is not None:
        merged["GUARDRAIL"] = {**settings.XQUEUE_BRIDGE.get("GUARDRAIL", {}), **guardrail}
    return override_settings(XQUEUE_BRIDGE=merged)
