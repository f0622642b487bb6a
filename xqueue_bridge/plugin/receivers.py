"""
The in-process receivers named by EVENT_RECEIVERS (inside an LMS: edx-platform's
``handle_external_grader_score``) as receiving ends of the score event.

Each is resolved by its dotted path when an event is sent, so the LMS's module is imported only once every
app is ready; an end whose receiver cannot be imported is not active, and a result that would then reach no
one stays pending with the reason (check ``xqueue_bridge.W001`` warns at start-up).
"""

from __future__ import annotations

import functools
import logging

from django.utils.module_loading import import_string

from xqueue_bridge.conf import get_setting
from xqueue_bridge.transports.event import register_receiving_end

log = logging.getLogger(__name__)


@functools.cache
def _resolve(path: str):
    try:
        return import_string(path)
    except ImportError as exc:
        log.error("EVENT_RECEIVERS: %s cannot be imported (%s); results on the event path will not reach it",
                  path, exc)
        return None


def _receiver(path: str):
    def receive(**kwargs):
        receiver = _resolve(path)
        if receiver is None:
            raise ImportError(f"EVENT_RECEIVERS: {path} cannot be imported")
        return receiver(**kwargs)

    return receive


def register_event_receivers() -> None:
    """Register every receiver EVENT_RECEIVERS names; confirmed when it returns, failed when it raises."""
    for path in get_setting("EVENT_RECEIVERS"):
        register_receiving_end(path, functools.partial(lambda p: _resolve(p) is not None, path), _receiver(path))
