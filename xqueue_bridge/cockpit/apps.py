"""Django application of the operators' cockpit: the dashboard, the API, health and metrics."""

from django.apps import AppConfig


class CockpitConfig(AppConfig):
    name = "xqueue_bridge.cockpit"
    label = "xqueue_bridge_cockpit"
    verbose_name = "XQueue bridge cockpit"

    def ready(self):
        from xqueue_bridge import signals
        from xqueue_bridge.cockpit import receivers

        signals.submission_received.connect(receivers.on_submission_received, dispatch_uid="cockpit.submission")
        signals.delivery_finished.connect(receivers.on_delivery_finished, dispatch_uid="cockpit.delivery")
