"""Settings of the edx-submissions anchor; the database comes from ``BENCH_DATABASE_URL``."""

from bench._control import plain_django_settings

globals().update(plain_django_settings(
    "anchor", ["rest_framework", "submissions", "bench.anchor"], "django.db.models.AutoField"
))
