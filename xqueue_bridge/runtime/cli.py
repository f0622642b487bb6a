"""
The ``xqueue-bridge`` command: the bridge's management commands under the standalone settings.

``xqueue-bridge COMMAND [options]`` runs the Django management command of that name (dashes become
underscores); ``xqueue-bridge manage ...`` reaches any other Django command. DJANGO_SETTINGS_MODULE,
when set, replaces the standalone settings (e.g. to run inside another Django project).
"""

from __future__ import annotations

import os
import sys

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
  shadow-report      comparisons of the two paths per course, org or queue
  readiness          which courses may move to the next stage, and why the others may not
  switch-off         --check: can the shim be switched off? (exit 1 and what remains, or the steps)
  purge-comparisons  delete stored comparisons older than the retention period
  purge-submissions  delete finished submissions (and their files) older than the retention period
  manage ...         any Django management command (migrate, createsuperuser, ...)

Each command takes --help. Settings come from the environment: see xqueue_bridge/runtime/settings.py.
"""


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
    elif name == "manage":
        execute_from_command_line(["xqueue-bridge", *rest])
    else:
        execute_from_command_line(["xqueue-bridge", name.replace("-", "_"), *rest])


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
        execute(["xqueue-bridge", "demo", *rest])
    finally:
        if keep:
            sys.stdout.write(f"Demo data kept in {home}\n")
        else:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
