"""
Settings of the LMS-shaped host, built the way edx-platform's lms/envs build theirs: plugin apps from
``get_plugin_apps``, plugin settings from ``add_plugins`` at the end. The bridge is named only as the key of
its settings dict; its apps, URLs, settings and receivers come through the plugin machinery.

``XQUEUE_BRIDGE_TEST_DB`` picks the database as the main suite's settings do (a test database of its own).
"""

import hashlib
import os
import tempfile
from pathlib import Path

import dj_database_url
from edx_django_utils.plugins import add_plugins, get_plugin_apps

LMS = "lms.djangoapp"  # edx-platform's ProjectType.LMS
HOME = Path(os.environ.setdefault("LMS_HOST_HOME", tempfile.mkdtemp(prefix="lms-host-")))

SECRET_KEY = "lms-host-tests-only-secret-key-0123456789abcdefghijklmnop"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "tests.lms_host.urls"
SERVICE_VARIANT = "lms"  # what an LMS sets; openedx-events takes its event source from it
MEDIA_ROOT = str(HOME / "media")
STATIC_URL = "/static/"
SESSION_ENGINE = "django.contrib.sessions.backends.db"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "waffle",
    "openedx_events",
    "tests.lms_host.courseware",
]
INSTALLED_APPS.extend(get_plugin_apps(LMS))

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "crum.CurrentRequestUserMiddleware",
    "waffle.middleware.WaffleMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": [
            "django.template.context_processors.request",
            "django.contrib.auth.context_processors.auth",
            "django.contrib.messages.context_processors.messages",
        ]},
    }
]

BACKEND = os.environ.get("XQUEUE_BRIDGE_TEST_DB", "sqlite")
_checkout = hashlib.sha256(str(Path(__file__).resolve().parent).encode()).hexdigest()[:8]
URLS = {
    "sqlite": f"sqlite:///{HOME / 'lms.sqlite3'}",
    "mysql": os.environ.get("XQUEUE_BRIDGE_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/lms_host"),
    "postgresql": os.environ.get("XQUEUE_BRIDGE_TEST_POSTGRESQL_URL", "postgres://postgres@127.0.0.1:5432/lms_host"),
}
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or URLS[BACKEND])}
_options = DATABASES["default"].setdefault("OPTIONS", {})
if BACKEND == "sqlite":
    DATABASES["default"]["TEST"] = {"NAME": str(HOME / "test-lms.sqlite3")}
    _options.update(timeout=30, transaction_mode="IMMEDIATE")
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_lms_host_{_checkout}"}
    if BACKEND == "mysql":
        import pymysql

        pymysql.install_as_MySQLdb()
        _options.update(charset="utf8mb4", isolation_level="read committed")

# The LMS's own settings of the bridge: its queues, where callbacks may go (the LMS itself), its own
# receiver of the score event, and deliveries before the grader's answer (a test LMS has no worker).
XQUEUE_BRIDGE = {
    "QUEUES": ["python-grader"],
    "ALLOWED_CALLBACK_ORIGINS": ["http://127.0.0.1:*", "http://localhost:*"],
    "DELIVERY_MODE": "sync",
    "EVENT_RECEIVERS": ["tests.lms_host.courseware.handlers.handle_external_grader_score"],
    "DELIVERY_RETRY": {"backoff_factor": 0.0, "backoff_max": 0.0, "jitter": 0.0},
}

# The Redis event bus, when a test process is started to consume from it (LMS_HOST_REDIS_URL).
if os.environ.get("LMS_HOST_REDIS_URL"):
    EVENT_BUS_CONSUMER = "edx_event_bus_redis.RedisEventConsumer"
    EVENT_BUS_PRODUCER = "edx_event_bus_redis.create_producer"
    EVENT_BUS_REDIS_CONNECTION_URL = os.environ["LMS_HOST_REDIS_URL"]
    EVENT_BUS_TOPIC_PREFIX = os.environ.get("LMS_HOST_TOPIC_PREFIX", "lms-host")
    EVENT_BUS_REDIS_CONSUMER_POLL_TIMEOUT = 1
    EVENT_BUS_REDIS_CONSUMER_POLL_FAILURE_SLEEP = 0.2
    INSTALLED_APPS.append("edx_event_bus_redis")

add_plugins(__name__, LMS, "common")
add_plugins(__name__, LMS, "test")
