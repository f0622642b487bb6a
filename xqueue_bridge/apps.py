"""
Django application of the bridge's queue, router and delivery; also an Open edX plugin app (``plugin_app``,
found through the ``lms.djangoapp`` entry point by edx-django-utils, as edx-platform loads its plugins).
"""

from django.apps import AppConfig
from django.core import checks
from edx_django_utils.plugins import PluginSettings, PluginSignals, PluginURLs

LMS = "lms.djangoapp"  # edx-platform's ProjectType.LMS, the entry point group
SETTINGS_TYPES = ("common", "production", "devstack", "test")  # edx-platform's SettingsType values


class XQueueBridgeConfig(AppConfig):
    name = "xqueue_bridge"
    verbose_name = "XQueue bridge"
    default_auto_field = "django.db.models.BigAutoField"

    # Inside an LMS: the XQueue API under PLUGIN_URL_PREFIX (no namespace, so its URL names stay the
    # bridge's), the plugin settings for each settings type, and the outbox's runner on its signal.
    plugin_app = {
        PluginURLs.CONFIG: {
            LMS: {PluginURLs.NAMESPACE: "", PluginURLs.REGEX: r"^", PluginURLs.RELATIVE_PATH: "plugin.urls"},
        },
        PluginSettings.CONFIG: {
            LMS: {kind: {PluginSettings.RELATIVE_PATH: f"plugin.settings.{kind}"} for kind in SETTINGS_TYPES},
        },
        PluginSignals.CONFIG: {
            LMS: {
                PluginSignals.RELATIVE_PATH: "outbox.runners",
                PluginSignals.RECEIVERS: [
                    {
                        PluginSignals.RECEIVER_FUNC_NAME: "start_attempt",
                        PluginSignals.SIGNAL_PATH: "xqueue_bridge.signals.delivery_enqueued",
                        PluginSignals.DISPATCH_UID: "xqueue_bridge.start_attempt",
                    }
                ],
            },
        },
    }

    def ready(self):
        from xqueue_bridge import signals
        from xqueue_bridge.outbox.runners import start_attempt
        from xqueue_bridge.plugin.receivers import register_event_receivers

        checks.register(check_event_path_reaches_someone, checks.Tags.compatibility)
        # The same dispatch_uid as the plugin signal config: connected once, whoever connects first.
        signals.delivery_enqueued.connect(start_attempt, dispatch_uid="xqueue_bridge.start_attempt")
        register_event_receivers()


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
