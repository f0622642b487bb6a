"""
Celery application of a standalone bridge: ``celery -A xqueue_bridge.runtime.celery_app worker -B``.

Celery settings come from the Django settings with the ``CELERY_`` prefix (broker: CELERY_BROKER_URL).
The web process queues a ``deliver`` task per result after commit (setting CELERY_APP names this app);
beat runs the ``drain`` task every WORKER_POLL_INTERVAL seconds, which picks up retries that are due and
deliveries whose task was lost, exactly as ``xqueue-bridge worker`` does.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xqueue_bridge.runtime.settings")

app = Celery("xqueue_bridge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["xqueue_bridge.outbox"])


@app.on_after_configure.connect
def schedule_drain(sender, **kwargs):
    from xqueue_bridge.conf import get_setting

    interval = float(get_setting("WORKER_POLL_INTERVAL"))
    # A drain task that waited longer than a few intervals is dropped: the next one does the same work, and
    # workers that were down do not come back to a backlog of them.
    sender.add_periodic_task(
        interval, sender.signature("xqueue_bridge.drain", options={"expires": max(5 * interval, 5.0)}),
        name="xqueue-bridge-drain",
    )
