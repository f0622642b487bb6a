"""
Settings of a bridge run as a separate process by the tests (``xqueue-bridge serve``, ``worker``, a Celery
worker): the standalone settings on the test database, with the test suite's password hasher and secret
key, and the XQUEUE_BRIDGE entries given as JSON in ``XQB_TEST_BRIDGE_SETTINGS`` (e.g. a short
DELIVERY_LEASE). ``XQB_TEST_EVENT_SINK_URL`` installs a receiver of the score event that forwards each
score to a recording server (``tests.support.probe``), and ``XQB_TEST_EVENT_COURSES`` (comma-separated)
puts those courses on the event path.
"""

import json
import os

from xqueue_bridge.runtime.settings import *  # noqa: F403
from xqueue_bridge.runtime.settings import INSTALLED_APPS, XQUEUE_BRIDGE

# The tests' own stand-ins play the LMS (FakeLms, the probe receiver): the standalone sink stays silent.
XQUEUE_BRIDGE = {
    **XQUEUE_BRIDGE, "RECEIVING_ENDS": False, **json.loads(os.environ.get("XQB_TEST_BRIDGE_SETTINGS", "{}"))
}
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher", "xqueue_bridge.intake.accounts.ServiceSecretHasher",
]
SECRET_KEY = "tests-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("XQB_TEST_CELERY_QUEUE", "celery")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
if os.environ.get("XQB_TEST_EVENT_SINK_URL"):
    INSTALLED_APPS = [*INSTALLED_APPS, "tests.support.probe"]
