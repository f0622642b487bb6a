"""
Celery application of a standalone bridge: ``celery -A xqueue_bridge.celery_app worker -B``.

Celery settings come from the Django settings with the ``CELERY_`` prefix (broker: CELERY_BROKER_URL);
beat runs the drain task every WORKER_POLL_INTERVAL seconds to pick up retries.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xqueue_bridge.settings.standalone")

app = Celery("xqueue_bridge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["xqueue_bridge"])
app.conf.beat_schedule = {"xqueue-bridge-drain": {"task": "xqueue_bridge.drain", "schedule": 1.0}}
