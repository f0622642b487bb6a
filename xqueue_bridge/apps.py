"""Django application of the bridge's queue, router and delivery."""

from django.apps import AppConfig


class XQueueBridgeConfig(AppConfig):
    name = "xqueue_bridge"
    verbose_name = "XQueue bridge"
    default_auto_field = "django.db.models.BigAutoField"
