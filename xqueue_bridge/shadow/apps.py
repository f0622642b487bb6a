"""Django application of the shadow comparison."""

from django.apps import AppConfig
from django.core import checks


class ShadowConfig(AppConfig):
    name = "xqueue_bridge.shadow"
    label = "xqueue_bridge_shadow"
    verbose_name = "XQueue bridge: shadow comparison"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from xqueue_bridge import signals
        from xqueue_bridge.outbox.runners import register_drainer
        from xqueue_bridge.shadow import experiment, readiness, receivers
        from xqueue_bridge.shadow.checks import check_shadow_settings

        signals.reply_refused.connect(receivers.on_reply_refused, dispatch_uid="xqb_shadow_refused")
        signals.reply_duplicated.connect(receivers.on_reply_duplicated, dispatch_uid="xqb_shadow_duplicated")
        signals.delivery_finished.connect(receivers.on_delivery_finished, dispatch_uid="xqb_shadow_delivered")
        # ``xqueue-bridge worker`` (and the drainer thread of ``serve``) decides what is left pending.
        register_drainer(experiment.drain)
        # Rollout moves are guarded by this readiness (the core cannot import shadow: it is handed over).
        readiness.register()
        checks.register(check_shadow_settings)
