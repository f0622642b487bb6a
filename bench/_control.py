"""
The line protocol of a benchmark target's control process (standard library only: the anchor's
virtualenv runs it too). The orchestrator writes one JSON command per line and reads one JSON answer.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from urllib.parse import urlsplit


def database_options(url: str) -> dict:
    """A DATABASES entry for a ``sqlite:///path``, ``postgres://`` or ``mysql://user@host:port/name`` URL."""
    if url.startswith("sqlite:///"):
        # What every SQLite target of the benchmark runs with: WAL, a busy timeout, IMMEDIATE transactions.
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": url.removeprefix("sqlite:///"),
                "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE",
                            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}}
    parts = urlsplit(url)
    entry = {"NAME": parts.path.lstrip("/"), "USER": parts.username or "", "PASSWORD": parts.password or "",
             "HOST": parts.hostname or "", "CONN_MAX_AGE": 60}
    if parts.scheme == "mysql":
        # PyMySQL stands in for mysqlclient (no compiler needed), with the options the bridge's settings
        # give MariaDB: utf8mb4 and READ COMMITTED.
        import pymysql

        pymysql.install_as_MySQLdb()
        return {**entry, "ENGINE": "django.db.backends.mysql", "PORT": str(parts.port or 3306),
                "OPTIONS": {"charset": "utf8mb4", "isolation_level": "read committed"}}
    return {**entry, "ENGINE": "django.db.backends.postgresql", "PORT": str(parts.port or 5432)}


def plain_django_settings(project: str, apps: list[str], auto_field: str) -> dict:
    """
    The settings of a plain Django XQueue server of the bench (the floor, the anchor): ``project``'s URLs,
    the auth, session and ``apps`` applications, database sessions, the database of ``BENCH_DATABASE_URL``.
    """
    import os

    database = database_options(os.environ["BENCH_DATABASE_URL"])
    database.setdefault("CONN_MAX_AGE", 60)
    return {
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY", f"{project}-bench-only"),
        "DEBUG": False,
        "ALLOWED_HOSTS": ["127.0.0.1", "localhost"],
        "INSTALLED_APPS": ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions", *apps],
        "MIDDLEWARE": [
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        "ROOT_URLCONF": f"bench.{project}.urls",
        "DATABASES": {"default": database},
        "SESSION_ENGINE": "django.contrib.sessions.backends.db",
        "DEFAULT_AUTO_FIELD": auto_field,
        "USE_TZ": True,
        "LOGGING": {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}},
    }


def serve(commands: dict[str, Callable[..., object]]) -> None:
    """Answer commands ``{"do": name, **kwargs}`` read from stdin until it closes."""
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            answer = {"ok": True, "value": commands[request.pop("do")](**request)}
        except Exception as exc:  # the orchestrator reports it and stops the run
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
