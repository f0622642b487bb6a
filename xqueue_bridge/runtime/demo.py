"""
``xqueue-bridge demo``: the whole loop on the embedded default, course by course.

It serves the bridge (``xqueue-bridge serve``, a real gunicorn server on a free loopback port), sets the
stage of demo courses with rollout overrides, submits learner answers through the XQueue submit API the
way the LMS does, grades them with a client that pulls and replies the way xqueue-watcher does, lets the
bridge deliver (callbacks over real HTTP to the bridge's own callback URL, events through the signal to
its own receiver), and prints per course what was delivered by which path and what each learner sees;
then the shadow report, readiness and the switch-off check. It stops its server and leaves nothing running.

The demo has three submissions per course, so it lowers its own readiness thresholds (DEMO_READINESS:
3 comparisons, no minimum time) in its own process; production keeps READINESS (100 over 24 h by default).
Its courses are set up before any learner submitted (``allow_unseen``) and put straight into their stages
(``force``, recorded as forced moves, which the switch-off check then lists); the journey course shows the
guard refusing a move whose readiness is not met before the operator forces it.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import close_old_connections

from xqueue_bridge.accounts import ensure_user
from xqueue_bridge.errors import StageMoveRefused
from xqueue_bridge.keys import quote_slashes
from xqueue_bridge.models import Delivery, Submission
from xqueue_bridge.outbox.runners import wait_for_threads
from xqueue_bridge.runtime.clients import GraderClient, LmsClient, make_body, make_header
from xqueue_bridge.runtime.process import ServeProcess
from xqueue_bridge.shadow.experiment import settled
from xqueue_bridge.sink import learners
from xqueue_bridge.stage import rollout

QUEUE = "demo-python"
ORG_ON_EVENTS = "EventU"

# Each course and the stage the operator gives it, with the reason the override records.
COURSES = [
    ("course-v1:DemoX+Legacy+2026", "callback", "not started: stays on the legacy callback"),
    ("course-v1:DemoX+Pilot+2026", "shadow_callback", "pilot: compare the event path in the dark"),
    ("course-v1:DemoX+Proving+2026", "shadow_event", "proving: events serve, callback compared"),
]
ORG_COURSE = f"course-v1:{ORG_ON_EVENTS}+Moved+2026"
JOURNEY = "course-v1:DemoX+Journey+2026"
JOURNEY_STAGES = ["callback", "shadow_callback", "shadow_event", "event"]
# Three learners per course: enough comparisons for the demo, not for production (see the docstring).
DEMO_READINESS = {"MIN_COMPARISONS": 3, "MIN_HOURS": 0.0}

# What three learners answer, and what the grader makes of it (a fraction of tests passed).
ANSWERS = [
    ("def double(x):\n    return 2 * x\n", 1.0),
    ("def double(x):\n    return x + x if x > 0 else 0\n", 0.5),
    ("def double(x):\n    return x\n", 0.0),
]


def grade(student_response: str) -> dict:
    """A small grader: runs the learner's ``double`` on a few inputs, as a course's grader.py would."""
    cases = [(3, 6), (0, 0), (-2, -4), (-5, -10)]
    namespace: dict = {}
    try:
        exec(compile(student_response, "<answer>", "exec"), namespace)  # noqa: S102 (the demo's own answers)
        passed = sum(1 for arg, want in cases if namespace["double"](arg) == want)
    except Exception as exc:  # a learner's error is feedback, not a crash
        return {"correct": False, "score": 0.0, "msg": f"<p>Error: {type(exc).__name__}</p>"}
    fraction = passed / len(cases)
    items = "".join(f"<li>double({a}) {'passed' if namespace['double'](a) == w else 'failed'}</li>" for a, w in cases)
    return {"correct": fraction == 1.0, "score": fraction,
            "msg": f"<div class=\"test\"><p>{passed} of {len(cases)} tests passed</p><ul>{items}</ul></div>"}


class Demo:
    def __init__(self, out: Callable[[str], None]):
        self.out = out
        self.lms_password = secrets.token_urlsafe(12)
        self.grader_password = secrets.token_urlsafe(12)
        self.learner_ids = iter(range(101, 10_000))

    def callback_url(self, base: str, course_id: str, user_id: int, block: str) -> tuple[str, str]:
        usage_key = f"block-v1:{course_id.removeprefix('course-v1:')}+type@problem+block@{block}"
        return usage_key, f"{base}/courses/{course_id}/xqueue/{user_id}/{quote_slashes(usage_key)}/score_update"

    def submit_answers(self, lms: LmsClient, base: str, course_id: str, answers=ANSWERS, block="double") -> None:
        """Each learner submits once, as the LMS does: record the queued state, then POST /xqueue/submit/."""
        for answer, _ in answers:
            user_id = next(self.learner_ids)
            anonymous_id = f"anon-{user_id:04d}"
            usage_key, url = self.callback_url(base, course_id, user_id, block)
            queuekey = secrets.token_hex(16)
            learners.begin_attempt(course_id, usage_key, str(user_id), anonymous_id, queuekey, max_score=1)
            code, content = lms.submit(make_header(url, queuekey, QUEUE), make_body(answer, anonymous_id))
            if code != 0:
                raise RuntimeError(f"submit refused: {content}")

    def grade_queue(self, grader: GraderClient) -> int:
        graded = 0
        while (served := grader.get_submission(QUEUE)) is not None:
            body = json.loads(served["xqueue_body"])
            ok, content = grader.put_result(served["xqueue_header"], grade(body["student_response"]))
            if not ok:
                self.out(f"  grader told: {content}")
            graded += 1
        return graded

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every delivery and shadow comparison is done (the server works in its threads)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            close_old_connections()
            if not Delivery.objects.filter(status=Delivery.Status.PENDING).exists() and _shadow_settled():
                return
            time.sleep(0.1)
        raise RuntimeError("deliveries did not settle in time")

    def run(self) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        ensure_user("lms", self.lms_password, role="lms")
        ensure_user("grader", self.grader_password, role="grader")
        bridge = settings.XQUEUE_BRIDGE
        settings.XQUEUE_BRIDGE = {**bridge, "READINESS": {**bridge.get("READINESS", {}), **DEMO_READINESS}}
        setup = {"changed_by": "ops-demo", "force": True, "allow_unseen": True}  # demo courses, set up in advance
        for course_id, stage, reason in COURSES:
            rollout.set_stage(course_id, stage, reason=reason, **setup)
        rollout.set_stage(ORG_ON_EVENTS, "event", reason="whole org moved after proving", **setup)

        server = ServeProcess(workers=2, threads=4, env={
            "XQUEUE_BRIDGE_QUEUES": QUEUE,
            "XQUEUE_BRIDGE_DELIVERY_MODE": "thread",
            "XQUEUE_BRIDGE_LOG_LEVEL": "WARNING",
            "XQUEUE_BRIDGE_FLAG_CACHE_TTL": "0",  # the demo changes stages while serving
        })
        try:
            server.wait_ready()
            self.out(f"Bridge serving on {server.url} (gunicorn, 2 workers x 4 threads, SQLite in WAL mode)\n")
            lms = LmsClient(server.url, "lms", self.lms_password)
            grader = GraderClient(server.url, "grader", self.grader_password)
            if not grader.login():
                raise RuntimeError("the grader could not log in")

            for course_id, *_ in COURSES:
                self.submit_answers(lms, server.url, course_id)
            self.submit_answers(lms, server.url, ORG_COURSE)
            graded = self.grade_queue(grader)

            # One course moves through every stage, one submission per stage: too few comparisons to pass a
            # shadow stage, so the guard refuses each move on, and the operator forces it (recorded).
            for number, stage in enumerate(JOURNEY_STAGES, start=1):
                self.move_journey(stage, number)
                self.submit_answers(lms, server.url, JOURNEY, answers=[ANSWERS[1]], block=f"step{number}")
                graded += self.grade_queue(grader)
            self.settle()
            self.out(f"{graded} submissions graded by a watcher-like grader over HTTP\n")
            for course_id in [*(c for c, *_ in COURSES), ORG_COURSE, JOURNEY]:
                self.print_course(course_id)
            self.print_shadow()
        finally:
            server.stop()
            self.out("\nServer stopped; nothing is left running.")

    def move_journey(self, stage: str, number: int) -> None:
        self.settle()
        reason = f"step {number} of the journey"
        try:
            rollout.set_stage(JOURNEY, stage, reason=reason, changed_by="ops-demo", allow_unseen=number == 1)
        except StageMoveRefused as refused:
            self.out(f"rollout set {JOURNEY} {stage}: refused\n  {refused.reasons[0]}\n  forced with --reason")
            rollout.set_stage(JOURNEY, stage, reason=reason, changed_by="ops-demo", force=True)

    def print_course(self, course_id: str) -> None:
        decision = rollout.stage_of(course_id)
        self.out(f"{course_id}\n  stage now: {decision.stage} ({decision.reason})")
        for submission in Submission.objects.filter(course_id=course_id).order_by("id"):
            deliveries = list(submission.deliveries.order_by("id"))
            delivered = ", ".join(f"{d.kind} by {d.path}: {d.status}" for d in deliveries) or "nothing delivered"
            state = learners.problem_state(submission.usage_key, course_id=course_id, user_id=submission.user_id)
            self.out(
                f"  learner {submission.user_id} [{submission.stage}: {submission.stage_reason}]\n"
                f"    {delivered}; learner sees {state.correctness}, "
                f"{_points(state.npoints)}/{state.max_score} points: {_text(state.msg)}"
            )
        self.out("")

    def print_shadow(self) -> None:
        self.out("Shadow report")
        call_command("shadow_report", stdout=_Writer(self.out))
        self.out("\nReadiness (the demo's thresholds: 3 comparisons, no minimum time)")
        call_command("readiness", stdout=_Writer(self.out))
        self.out("\nSwitch-off check")
        try:
            call_command("switch_off", "--check", stdout=_Writer(self.out))
        except CommandError as not_yet:
            self.out(f"  {not_yet}")


def _shadow_settled() -> bool:
    return settled()


def _points(value) -> str:
    return "0" if value is None else f"{value:g}"


def _text(html: str, limit: int = 60) -> str:
    import re

    text = re.sub(r"<[^>]+>", " ", html or "")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Writer:
    def __init__(self, out):
        self.out = out

    def write(self, text: str) -> None:
        for line in text.rstrip("\n").split("\n"):
            self.out("  " + line)

    def flush(self) -> None:
        pass


def run_demo(out: Callable[[str], None] = print) -> None:
    started = time.monotonic()
    Demo(out).run()
    out(f"Demo finished in {time.monotonic() - started:.1f} s")
    wait_for_threads()
