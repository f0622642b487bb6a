"""Running the bridge's management commands as an operator does, and reading what they answer."""

from __future__ import annotations

import json
from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError


def command(*args) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``xqueue-bridge ARGS`` run in this process (a CommandError's code)."""
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    return 0, out.getvalue(), err.getvalue()


def command_json(*args):
    code, out, err = command(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)
