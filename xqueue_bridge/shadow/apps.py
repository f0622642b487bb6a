"""Django application of the shadow comparison."""

from django.apps import AppConfig


class ShadowConfig(AppConfig):
    name = "xqueue_bridge.shadow"
    label = "xqueue_bridge_shadow"
    verbose_name = "XQueue bridge: shadow comparison"
    default_auto_field = "django.db.models.BigAutoField"
