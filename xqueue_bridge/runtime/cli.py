"""
The ``xqueue-bridge`` command: the bridge's management commands under the standalone settings.

``xqueue-bridge COMMAND [options]`` runs the Django management command of that name (dashes become
underscores); ``xqueue-bridge manage ...`` reaches any other Django command. DJANGO_SETTINGS_MODULE,
when set, replaces the standalone settings (e.g. to run inside another Django project).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from xqueue_bridge.runtime import preflight

USAGE = """usage: xqueue-bridge COMMAND [options]

Serving
  serve              migrate and serve the XQueue API over HTTP (gunicorn, several workers and threads)
  worker             deliver due results and run shadow comparisons until stopped
  demo               the whole loop on the embedded default, printed course by course (--keep
                     keeps its data folder)
Operating
  users              create or update the LMS and grader accounts in the xqueue group
  rollout            show and set the stage of courses and orgs, percentages, history
  deliveries         list deliveries (e.g. --status dead)
  replay             queue dead deliveries again (--dry-run lists them first)
  queues             length and oldest age of each queue by status (submissions and deliveries)
  shadow-report      comparisons of the two paths per course, org or queue
  readiness          which courses may move to the next stage, and why the others may not
  switch-off         --check: can the shim be switched off? (exit 1 and what remains, or the steps)
  purge-comparisons  delete stored comparisons older than the retention period
  purge-submissions  delete finished submissions (and their files) older than the retention period
  manage ...         any Django management command (migrate, createsuperuser, ...)

Each command takes --help (with examples). Settings come from the environment: see
xqueue_bridge/runtime/settings.py. PostgreSQL, MariaDB and Redis need: pip install 'xqueue-bridge[services]'.
The dashboard is served at /cockpit/, the operators' API at /api/v1/, health at /health/, metrics at /metrics.
"""

# Commands that run without the database (or prepare it themselves: serve migrates unless told not to).
NO_DATABASE = {"demo", "manage"}
NEEDS_REDIS = {"serve", "worker"}


DEMO_HOME = "XQUEUE_BRIDGE_DEMO_HOME"  # set by ``xqueue-bridge demo`` for its throw-away data folder


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xqueue_bridge.runtime.settings")
    from django.core.management import execute_from_command_line

    name, rest = argv[0], argv[1:]
    if name == "demo":
        _run_demo(rest, execute_from_command_line)
        return
    if name in ("serve", "worker"):
        # Counters of every gunicorn worker (and of a worker process) add up in /metrics; prometheus-client
        # reads this variable when it is imported, so it is set before the apps load.
        home = Path(os.environ.get("XQUEUE_BRIDGE_HOME", ".xqueue-bridge")).resolve()
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(home / "metrics"))
    _setup()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    if name == "manage":
        execute_from_command_line(["xqueue-bridge", *rest])
        return
    if not {"-h", "--help"} & set(rest):
        preflight.settings_check()
        if name in NEEDS_REDIS:
            preflight.redis_answers()
        if name not in NO_DATABASE:
            preflight.database_answers()
            if name != "serve":
                preflight.migrated()
    execute_from_command_line(["xqueue-bridge", name.replace("-", "_"), *rest])


def _setup() -> None:
    """Load the settings and the apps; a setting the bridge cannot use ends the command in one line."""
    import django

    from xqueue_bridge.errors import ConfigurationError

    try:
        django.setup()
    except ConfigurationError as exc:
        preflight.fail(exc.message)


def _run_demo(rest: list[str], execute) -> None:
    """The demo runs on a fresh embedded default: its own data folder and SQLite, removed afterwards."""
    import shutil
    import tempfile

    keep = "--keep" in rest
    rest = [arg for arg in rest if arg != "--keep"]
    home = tempfile.mkdtemp(prefix="xqueue-bridge-demo-")
    # The demo writes accounts, courses and overrides: never into a configured database.
    os.environ["DJANGO_SETTINGS_MODULE"] = "xqueue_bridge.runtime.settings"
    os.environ["XQUEUE_BRIDGE_HOME"] = os.environ[DEMO_HOME] = home
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    try:
        _setup()
        execute(["xqueue-bridge", "demo", *rest])
    finally:
        if keep:
            sys.stdout.write(f"Demo data kept in {home}\n")
        else:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
