"""
Test settings: the standalone settings on the database named by ``XQUEUE_BRIDGE_TEST_DB``.

``sqlite`` (default) uses a file database, so that live servers, threads and subprocesses share it;
``mysql`` and ``postgresql`` use the local servers (``XQUEUE_BRIDGE_TEST_MYSQL_URL`` and
``XQUEUE_BRIDGE_TEST_POSTGRESQL_URL`` override where they are).
"""

import hashlib
import os
import tempfile
from pathlib import Path

os.environ.setdefault("XQUEUE_BRIDGE_HOME", tempfile.mkdtemp(prefix="xqb-test-home-"))

from xqueue_bridge.runtime.settings import *  # noqa: E402,F403
from xqueue_bridge.runtime.settings import HOME, database_from_url  # noqa: E402

BACKEND = os.environ.get("XQUEUE_BRIDGE_TEST_DB", "sqlite")
URLS = {
    "sqlite": f"sqlite:///{HOME / 'xqueue-bridge.sqlite3'}",
    "mysql": os.environ.get("XQUEUE_BRIDGE_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/xqueue_bridge"),
    "postgresql": os.environ.get(
        "XQUEUE_BRIDGE_TEST_POSTGRESQL_URL", "postgres://postgres@127.0.0.1:5432/xqueue_bridge"
    ),
}
if BACKEND not in URLS:
    raise RuntimeError(f"XQUEUE_BRIDGE_TEST_DB={BACKEND!r}: expected one of {', '.join(URLS)}")
DATABASES = {"default": database_from_url(URLS[BACKEND])}
# In the test process threads come and go (live server, delivery pool, drainers): none keeps a connection
# past its work, so that each test's flush and the final drop of the test database find none open.
DATABASES["default"]["CONN_MAX_AGE"] = 0
if BACKEND == "sqlite":
    DATABASES["default"]["TEST"] = {"NAME": str(HOME / "test-xqueue-bridge.sqlite3")}
else:
    # One test database per checkout, so that two checkouts on one machine never share one.
    _checkout = hashlib.sha256(str(Path(__file__).resolve().parent).encode()).hexdigest()[:8]
    DATABASES["default"]["TEST"] = {"NAME": f"test_xqueue_bridge_{_checkout}"}

INSTALLED_APPS = [*INSTALLED_APPS, "submissions"]  # noqa: F405  (the differential test's reference)
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher", "xqueue_bridge.intake.accounts.ServiceSecretHasher",
]
XQUEUE_BRIDGE = {
    **XQUEUE_BRIDGE,  # noqa: F405
    "QUEUES": ["test-pull", "python-grader", "other-queue"],
    "ALLOWED_CALLBACK_ORIGINS": ["http://127.0.0.1:*", "http://localhost:*"],
    "DELIVERY_MODE": "sync",
}
SECRET_KEY = "tests-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
# edx-submissions 4.0.2's migration 0006 alters submissions_studentitem.uuid on MariaDB, a column its
# models never create, so its migrations fail on a fresh MariaDB database. The reference tables are made
# by one migration Django generated from its models (tests/reference_migrations), the same on every backend.
MIGRATION_MODULES = {"submissions": "tests.reference_migrations.submissions"}
