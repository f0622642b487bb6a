"""Django application of the standalone sink."""

from django.apps import AppConfig


class SinkConfig(AppConfig):
    name = "xqueue_bridge.sink"
    label = "xqueue_bridge_sink"
    verbose_name = "XQueue bridge: standalone sink"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connected always; the receiver itself does nothing while RECEIVING_ENDS is off.
        from openedx_events.learning.signals import EXTERNAL_GRADER_SCORE_SUBMITTED

        from xqueue_bridge.conf import get_setting
        from xqueue_bridge.sink.receivers import handle_external_grader_score
        from xqueue_bridge.transports.event import register_receiving_end

        EXTERNAL_GRADER_SCORE_SUBMITTED.connect(
            handle_external_grader_score, dispatch_uid="xqueue_bridge_sink.handle_external_grader_score"
        )
        # The event transport counts this receiver as a receiving end while RECEIVING_ENDS is on.
        register_receiving_end(
            "standalone receiver", lambda: bool(get_setting("RECEIVING_ENDS")), handle_external_grader_score
        )
