"""Every error xqueue-bridge defines is named in ``xqueue_bridge.errors``, under one root."""

from __future__ import annotations

import importlib
import pkgutil

from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist

import xqueue_bridge
from xqueue_bridge.errors import XQueueBridgeError

# Modules that do something when imported: run the command line, build the WSGI or the Celery app.
SKIPPED = ("__main__", "wsgi", "celery_app")


def defined_errors() -> list[type[BaseException]]:
    for module in pkgutil.walk_packages(xqueue_bridge.__path__, "xqueue_bridge."):
        if ".migrations" not in module.name and module.name.rsplit(".", 1)[-1] not in SKIPPED:
            importlib.import_module(module.name)
    found, pending = [], [BaseException]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            django_made = issubclass(subclass, ObjectDoesNotExist | MultipleObjectsReturned)  # Model.DoesNotExist
            if subclass.__module__.split(".")[0] == "xqueue_bridge" and not django_made:
                found.append(subclass)
    return found


def test_every_error_of_the_bridge_derives_from_the_root_and_lives_in_errors():
    errors = defined_errors()
    assert {"ReplyError", "XQueueReplyError", "RenderFailed", "UnknownStage"} <= {error.__name__ for error in errors}
    strays = [
        f"{error.__module__}.{error.__qualname__}"
        for error in errors
        if not issubclass(error, XQueueBridgeError) or error.__module__ != "xqueue_bridge.errors"
    ]
    assert strays == []
