"""``xqueue-bridge demo``: the main job end to end on the embedded default (see xqueue_bridge.demo)."""

from __future__ import annotations

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Serve the bridge, move demo courses through the stages, submit, grade and deliver over real HTTP, "
            "and print what each learner sees, then the shadow report and readiness.")

    def add_arguments(self, parser):
        parser.add_argument("--keep", action="store_true",
                            help="keep the demo's data folder (``xqueue-bridge demo`` makes a fresh one each run)")

    def handle(self, *args, **options):
        from xqueue_bridge.demo import run_demo

        run_demo(out=self.stdout.write)
