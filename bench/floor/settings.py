"""Settings of the floor server (``bench.floor``); the database comes from ``BENCH_DATABASE_URL``."""

import os

from bench._control import database_options

SECRET_KEY = os.environ.get("BENCH_SECRET_KEY", "floor-bench-only")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions", "bench.floor"]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "bench.floor.urls"
DATABASES = {"default": database_options(os.environ["BENCH_DATABASE_URL"])}
DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
SESSION_ENGINE = "django.contrib.sessions.backends.db"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
