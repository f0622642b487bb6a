"""Django application of the bridge's queue, router and delivery."""

from django.apps import AppConfig
from django.core import checks


class XQueueBridgeConfig(AppConfig):
    name = "xqueue_bridge"
    verbose_name = "XQueue bridge"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from xqueue_bridge import signals
        from xqueue_bridge.outbox.runners import start_attempt

        checks.register(check_event_path_reaches_someone, checks.Tags.compatibility)
        signals.delivery_enqueued.connect(start_attempt, dispatch_uid="xqueue_bridge.start_attempt")


def check_event_path_reaches_someone(app_configs=None, **kwargs):
    """Warn at start-up when results of event-stage courses could reach nobody (they would stay pending)."""
    from xqueue_bridge.transports.event import NO_RECEIVING_END, receiving_ends

    if receiving_ends():
        return []
    return [
        checks.Warning(
            "Results of courses on the event path would reach no one.",
            hint=NO_RECEIVING_END[0].upper() + NO_RECEIVING_END[1:] + ".",
            id="xqueue_bridge.W001",
        )
    ]
