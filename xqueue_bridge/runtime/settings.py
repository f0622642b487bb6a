"""
Settings of a bridge that runs on its own: ``xqueue-bridge serve``, ``worker``, ``demo`` and the rest.

Everything is read from the environment, with an embedded default that needs no server: an SQLite
database (configured for several concurrent writers) in ``XQUEUE_BRIDGE_HOME`` and in-process signals.

Environment variables (all optional). Each fills the setting named beside it; what a setting means and
its default are in the README ("Settings", "Shadow mode") and where it is defined: ``xqueue_bridge/conf.py``
(``XQUEUE_BRIDGE``), ``toggles/conf.py`` (``TOGGLES``), Django's documentation for Django's own. Only a
default that differs here is given.

==========================================  ==============================================================
``XQUEUE_BRIDGE_HOME``                      the data folder: SQLite database, ``MEDIA_ROOT``, secret key;
                                            ``./.xqueue-bridge``
``DATABASE_URL``                            ``DATABASES["default"]`` (dj-database-url); SQLite in the home
``REDIS_URL``                               the event bus producer (``EVENT_BUS_*``) and the Celery broker
``EVENT_BUS_TOPIC``                         ``EVENT_BUS_TOPIC``; ``external-grader-score``
``EVENT_BUS_TOPIC_PREFIX``                  ``EVENT_BUS_TOPIC_PREFIX``
``EVENT_BUS_PRODUCER``                      ``EVENT_BUS_PRODUCER``; ``edx_event_bus_redis.create_producer``
``EVENTS_SERVICE_NAME``                     ``EVENTS_SERVICE_NAME`` (source ``openedx/NAME/web``); ``xqueue-bridge``
``CELERY_BROKER_URL``                       ``CELERY_BROKER_URL``; ``REDIS_URL``, else in memory
``SECRET_KEY``                              ``SECRET_KEY``; else one made once and kept in the home folder
``ALLOWED_HOSTS``                           ``ALLOWED_HOSTS``, comma-separated; ``127.0.0.1,localhost,[::1]``
``CSRF_TRUSTED_ORIGINS``                    ``CSRF_TRUSTED_ORIGINS``, comma-separated
``XQUEUE_BRIDGE_BEHIND_TLS_PROXY``          ``1``: ``SECURE_PROXY_SSL_HEADER`` for ``X-Forwarded-Proto``
``XQUEUE_BRIDGE_QUEUES``                    ``XQUEUE_BRIDGE["QUEUES"]``, comma-separated
``XQUEUE_BRIDGE_ALLOWED_CALLBACK_ORIGINS``  ``XQUEUE_BRIDGE["ALLOWED_CALLBACK_ORIGINS"]``, comma-separated;
                                            ``http://127.0.0.1:*,http://localhost:*``
``XQUEUE_BRIDGE_DELIVERY_MODE``             ``XQUEUE_BRIDGE["DELIVERY_MODE"]``
``XQUEUE_BRIDGE_RECEIVING_ENDS``            ``XQUEUE_BRIDGE["RECEIVING_ENDS"]``: ``1`` or ``0``
``XQUEUE_BRIDGE_RECEIVING_ENDS_SECRET``     ``XQUEUE_BRIDGE["RECEIVING_ENDS_SECRET"]``
``XQUEUE_BRIDGE_PULL_TIMEOUT``              ``XQUEUE_BRIDGE["PULL_TIMEOUT"]``
``XQUEUE_BRIDGE_CALLBACK_CA_BUNDLE``        ``XQUEUE_BRIDGE["CALLBACK_VERIFY"]``: the CA bundle's path
``XQUEUE_BRIDGE_POINTS_POSSIBLE``           ``XQUEUE_BRIDGE["POINTS_POSSIBLE"]``, JSON
``XQUEUE_BRIDGE_FLAG_CACHE_TTL``            ``TOGGLES["CACHE_TTL"]``
``XQUEUE_BRIDGE_USERS``                     ``XQUEUE_BRIDGE_USERS`` (JSON), read by ``xqueue-bridge users``
                                            ``{"lms": {"password": "...", "role": "lms"}, ...}``
``XQUEUE_BRIDGE_LOG_LEVEL``                 the root logger's level; ``INFO``
``XQUEUE_BRIDGE_LOG_FORMAT``                ``plain`` or ``json`` (one object a line, structured fields as keys)
``XQUEUE_BRIDGE_AUTO_MIGRATE``              ``0``: a command finding unapplied migrations says what to run
                                            instead of applying them (read by the command line)
``PROMETHEUS_MULTIPROC_DIR``                where each process keeps its counters for ``/metrics``;
                                            ``serve`` and ``worker`` set ``$XQUEUE_BRIDGE_HOME/metrics``
==========================================  ==============================================================

``XQUEUE_BRIDGE["CELERY_APP"]`` is the bridge's own Celery app (``xqueue_bridge.runtime.celery_app.app``).
"""

import json
import os
import secrets
from pathlib import Path

import dj_database_url

from xqueue_bridge.errors import ConfigurationError
from xqueue_bridge.runtime import sqlite

# Each problem with the environment is one line that names the variable (the command line prints it and
# exits with status 2), never a traceback.


def _home() -> Path:
    home = Path(os.environ.get("XQUEUE_BRIDGE_HOME", ".xqueue-bridge")).resolve()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(
            f"XQUEUE_BRIDGE_HOME={home} cannot be created ({exc.strerror}); set it to a folder this user may write"
        ) from None
    return home


def _env_json(name: str, default: str, example: str):
    text = os.environ.get(name, default)
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{name} is not valid JSON ({exc}); expected e.g. {example}") from None
    if not isinstance(value, dict):
        raise ConfigurationError(f"{name} must be a JSON object; expected e.g. {example}")
    return value


def _env_float(name: str, default: str) -> float:
    text = os.environ.get(name, default)
    try:
        return float(text)
    except ValueError:
        raise ConfigurationError(f"{name}={text!r} is not a number of seconds; expected e.g. {default}") from None


HOME = _home()


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = HOME / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = False
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", "")
if os.environ.get("XQUEUE_BRIDGE_BEHIND_TLS_PROXY", "0") not in ("0", "false", "no"):
    # A TLS-terminating proxy in front: trust its X-Forwarded-Proto, so file URLs and the admin say https.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "waffle",
    "edx_toggles",
    "openedx_events",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "toggles",
    "xqueue_bridge",
    "xqueue_bridge.sink",
    "xqueue_bridge.shadow",
    "xqueue_bridge.cockpit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's, the dashboard's) served by the bridge itself, from the installed apps.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "crum.CurrentRequestUserMiddleware",
    "waffle.middleware.WaffleMiddleware",
]

ROOT_URLCONF = "xqueue_bridge.urls"
WSGI_APPLICATION = "xqueue_bridge.runtime.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


def database_from_url(url: str) -> dict:
    """A DATABASES entry for ``url``, with the options each backend needs for concurrent writers."""
    # Connections are kept between requests (and between deliveries of a pool thread): opening one costs
    # more than a whole request on some servers (about 45 ms for MariaDB with PyMySQL on the CI machine).
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    engine = config["ENGINE"]
    options = config.setdefault("OPTIONS", {})
    if engine.endswith("sqlite3"):
        # Several processes and threads write at once: WAL lets readers go on while one writes, the busy
        # timeout waits for the write lock instead of failing, and IMMEDIATE takes the write lock when a
        # transaction begins, so a read-then-write transaction never fails half way with "locked". The
        # engine queues writers for their turn in the kernel rather than in SQLite's sleeping busy handler.
        config["ENGINE"] = sqlite.ENGINE
        options.setdefault("timeout", 30)
        options.setdefault("transaction_mode", "IMMEDIATE")
        options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    elif engine.endswith("mysql"):
        try:
            import pymysql
        except ImportError:
            raise ConfigurationError(
                "DATABASE_URL names MySQL/MariaDB, whose driver is not installed: "
                "pip install 'xqueue-bridge[services]'"
            ) from None

        pymysql.install_as_MySQLdb()
        options.setdefault("charset", "utf8mb4")
        options.setdefault("isolation_level", "read committed")
    elif engine.endswith("postgresql"):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise ConfigurationError(
                "DATABASE_URL names PostgreSQL, whose driver is not installed: pip install 'xqueue-bridge[services]'"
            ) from None
    return config


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", f"sqlite:///{HOME / 'xqueue-bridge.sqlite3'}")
    try:
        dj_database_url.parse(url)
    except (ValueError, dj_database_url.UnknownSchemeError) as exc:
        raise ConfigurationError(
            f"DATABASE_URL is not a database URL ({exc}); expected e.g. postgres://user:password@host/db"
        ) from None
    return url


DATABASES = {
    "default": database_from_url(_database_url())
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Service accounts with long random secrets (``xqueue-bridge users``) use a hasher a login can afford
# under load; everyone else keeps Django's default (docs/decisions/0006).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "xqueue_bridge.intake.accounts.ServiceSecretHasher",
]
AUTHENTICATION_BACKENDS = [
    "xqueue_bridge.intake.accounts.ServiceAccountBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Sessions in the database: a logout in one worker process ends the session in every other one.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
STATIC_ROOT = str(HOME / "static")  # ``xqueue-bridge manage collectstatic`` for a web server in front
(HOME / "static").mkdir(exist_ok=True)
# Without a collect step WhiteNoise finds the files in the installed apps (a fresh home serves a styled admin).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
LOGIN_URL = "/admin/login/"
MEDIA_ROOT = str(HOME / "files")
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The operators' API (/api/v1/): staff only, by session (the dashboard, a browser) or token (automation:
# ``xqueue-bridge manage drf_create_token USER``), paginated.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "xqueue-bridge operators' API",
    "DESCRIPTION": "Stages, history, readiness, shadow report, deliveries, replay and queues of the bridge.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}
# The intake enforces its own limits (XQUEUE_BRIDGE MAX_*) with a clear 413 first; Django's own limit, at
# the same size, guards every other URL (admin, the sink's callback) against oversized bodies.
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

def _env_number(name: str, default: str):
    """A number from the environment; a value that is none stays text, for the system checks to name."""
    text = os.environ.get(name, default)
    try:
        return float(text)
    except ValueError:
        return text


def _env_json_or_text(name: str, default: str):
    """JSON from the environment; text that is not JSON stays text, for the system checks to name."""
    text = os.environ.get(name, default)
    try:
        return json.loads(text)
    except ValueError:
        return text


XQUEUE_BRIDGE = {
    "QUEUES": _env_list("XQUEUE_BRIDGE_QUEUES", "test-pull"),
    "ALLOWED_CALLBACK_ORIGINS": _env_list(
        "XQUEUE_BRIDGE_ALLOWED_CALLBACK_ORIGINS", "http://127.0.0.1:*,http://localhost:*"
    ),
    "DELIVERY_MODE": os.environ.get("XQUEUE_BRIDGE_DELIVERY_MODE", "thread"),
    "CELERY_APP": "xqueue_bridge.runtime.celery_app.app",
    "RECEIVING_ENDS": os.environ.get("XQUEUE_BRIDGE_RECEIVING_ENDS", "1") not in ("0", "false", "no"),
    "RECEIVING_ENDS_SECRET": os.environ.get("XQUEUE_BRIDGE_RECEIVING_ENDS_SECRET") or None,
    # Kept as given when they do not parse: the system checks name every bad setting at once (and the
    # command line prints each on one line, naming the variable).
    "PULL_TIMEOUT": _env_number("XQUEUE_BRIDGE_PULL_TIMEOUT", "300"),
    "CALLBACK_VERIFY": os.environ.get("XQUEUE_BRIDGE_CALLBACK_CA_BUNDLE") or True,
    "POINTS_POSSIBLE": _env_json_or_text("XQUEUE_BRIDGE_POINTS_POSSIBLE", "{}"),
}
TOGGLES = {"CACHE_TTL": _env_float("XQUEUE_BRIDGE_FLAG_CACHE_TTL", "5")}
XQUEUE_BRIDGE_USERS = _env_json("XQUEUE_BRIDGE_USERS", "{}", '{"lms": "LMS_PASSWORD", "grader": "GRADER_PASSWORD"}')

# The source of the events the bridge sends (openedx/xqueue-bridge/web), as an LMS's is openedx/lms/web.
EVENTS_SERVICE_NAME = os.environ.get("EVENTS_SERVICE_NAME", "xqueue-bridge")
REDIS_URL = os.environ.get("REDIS_URL", "")
EVENT_BUS_TOPIC = os.environ.get("EVENT_BUS_TOPIC", "external-grader-score")
if REDIS_URL:
    try:
        import edx_event_bus_redis  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            "REDIS_URL turns on the Redis event bus, whose client is not installed: "
            "pip install 'xqueue-bridge[services]'"
        ) from None
    # openedx-events' standard producer setting; the bridge reports its failed writes (transports/bus.py).
    EVENT_BUS_PRODUCER = os.environ.get("EVENT_BUS_PRODUCER", "edx_event_bus_redis.create_producer")
    EVENT_BUS_CONSUMER = "edx_event_bus_redis.RedisEventConsumer"
    EVENT_BUS_REDIS_CONNECTION_URL = REDIS_URL
    if os.environ.get("EVENT_BUS_TOPIC_PREFIX"):  # must equal the prefix of the LMS's consumer
        EVENT_BUS_TOPIC_PREFIX = os.environ["EVENT_BUS_TOPIC_PREFIX"]
    EVENT_BUS_PRODUCER_CONFIG = {
        "org.openedx.learning.external_grader.score.submitted.v1": {
            EVENT_BUS_TOPIC: {"event_key_field": "score.submission_id", "enabled": True}
        }
    }
    INSTALLED_APPS.append("edx_event_bus_redis")

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_TASK_ACKS_LATE = True

LOG_FORMAT = os.environ.get("XQUEUE_BRIDGE_LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ConfigurationError(f"XQUEUE_BRIDGE_LOG_FORMAT={LOG_FORMAT!r}: expected plain or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "xqueue_bridge.runtime.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("XQUEUE_BRIDGE_LOG_LEVEL", "INFO")},
    "loggers": {
        # edx-toggles warns on every flag read outside a request; the bridge reads flags its own way.
        "edx_toggles": {"level": "ERROR"},
    },
}
