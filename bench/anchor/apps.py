from django.apps import AppConfig


class AnchorConfig(AppConfig):
    name = "bench.anchor"
    label = "anchor"

    def ready(self):
        from openedx_events.learning.signals import EXTERNAL_GRADER_SCORE_SUBMITTED

        from bench.anchor.receiver import on_score

        EXTERNAL_GRADER_SCORE_SUBMITTED.connect(on_score)
