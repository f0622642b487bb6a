"""Django application of the standalone sink."""

from django.apps import AppConfig


class SinkConfig(AppConfig):
    name = "xqueue_bridge.sink"
    label = "xqueue_bridge_sink"
    verbose_name = "XQueue bridge: standalone sink"
    default_auto_field = "django.db.models.BigAutoField"
