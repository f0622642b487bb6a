"""Django application of the bridge's queue, router and delivery."""

from django.apps import AppConfig
from django.core import checks


class XQueueBridgeConfig(AppConfig):
    name = "xqueue_bridge"
    verbose_name = "XQueue bridge"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from toggles import proposals
        from xqueue_bridge import signals
        from xqueue_bridge.checks import check_settings
        from xqueue_bridge.outbox.runners import start_attempt
        from xqueue_bridge.stage.guard import guard_admin_change

        checks.register(check_event_path_reaches_someone, checks.Tags.compatibility)
        checks.register(check_settings)
        signals.delivery_enqueued.connect(start_attempt, dispatch_uid="xqueue_bridge.start_attempt")
        # The toggles admin's add forms move stages too: they obey the same guard as the rollout API.
        proposals.register_guard(guard_admin_change)


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
