"""
Checks the command line makes before a command runs, so that a first run has no traps: each problem is
one line on stderr that names the setting, and exit status 2 (as argparse uses for bad usage).
"""

from __future__ import annotations

import os
import re
import sys
from typing import NoReturn
from urllib.parse import urlsplit

EXIT_USAGE = 2


def fail(message: str) -> NoReturn:
    sys.stderr.write(f"xqueue-bridge: error: {message}\n")
    sys.exit(EXIT_USAGE)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def where(url: str) -> str:
    """A URL without its credentials, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def settings_check() -> None:
    """The system checks' errors (every XQUEUE_BRIDGE setting's type and value), each on one line."""
    from django.core import checks

    errors = [message for message in checks.run_checks() if message.is_serious()]
    if not errors:
        return
    for message in errors[:-1]:
        sys.stderr.write(f"xqueue-bridge: error: {_line(message)}\n")
    fail(_line(errors[-1]))


def _line(message) -> str:
    """A check's message (and hint), with the environment variable that set it when there is one."""
    text = " ".join(f"{message.msg} {message.hint or ''}".split())
    for name in re.findall(r"XQUEUE_BRIDGE\['([A-Z_]+)'\]", text):
        if f"XQUEUE_BRIDGE_{name}" in os.environ:
            text += f" (set by the environment variable XQUEUE_BRIDGE_{name})"
    return text


def database_answers() -> None:
    from django.db import OperationalError, connection

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        configured = os.environ.get("DATABASE_URL")
        named = f"DATABASE_URL={where(configured)}" if configured else f"database {connection.settings_dict['NAME']}"
        fail(f"{named} does not answer ({_first_line(exc)}); start it or fix DATABASE_URL")


def migrated() -> None:
    """Apply missing migrations (a first run), or with XQUEUE_BRIDGE_AUTO_MIGRATE=0 say what to run."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    missing = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not missing:
        return
    if os.environ.get("XQUEUE_BRIDGE_AUTO_MIGRATE", "1") in ("0", "false", "no"):
        fail(f"the database has {len(missing)} unapplied migrations: run `xqueue-bridge manage migrate` first")
    call_command("migrate", interactive=False, verbosity=0)


def redis_answers() -> None:
    url = os.environ.get("REDIS_URL")
    if not url:
        return
    import redis  # the settings made sure the services extra is installed when REDIS_URL is set

    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        fail(f"REDIS_URL={where(url)} does not answer ({_first_line(exc)}); start Redis or fix REDIS_URL")
    finally:
        client.close()
