"""``xqueue-bridge demo``: the main job end to end on the embedded default (see xqueue_bridge.demo)."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Serve the bridge, move demo courses through the stages, submit, grade and deliver over real HTTP, "
            "and print what each learner sees, then the shadow report and readiness.")

    def handle(self, *args, **options):
        from xqueue_bridge.demo import run_demo

        run_demo(out=self.stdout.write)
