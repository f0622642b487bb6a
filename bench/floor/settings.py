"""Settings of the floor server (``bench.floor``); the database comes from ``BENCH_DATABASE_URL``."""

from bench._control import plain_django_settings

globals().update(plain_django_settings("floor", ["bench.floor"], "django.db.models.BigAutoField"))
