"""
Control process of the bridge (``bench._control`` protocol), under the standalone settings.

``seed`` puts a course in a stage and submits answers over HTTP as the LMS does (each learner's problem
recorded in the standalone sink first, as capa does on submit); ``wait`` follows every result to the
learner, and in a shadow stage every comparison, and reports how far behind the comparisons were and how
many were shed under load (SHADOW["MAX_LAG"]).
"""

import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xqueue_bridge.runtime.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import close_old_connections  # noqa: E402
from django.db.models import Count, Max  # noqa: E402

from bench._control import serve  # noqa: E402
from xqueue_bridge.accounts import ensure_user  # noqa: E402
from xqueue_bridge.keys import quote_slashes  # noqa: E402
from xqueue_bridge.models import Delivery  # noqa: E402
from xqueue_bridge.runtime.clients import LmsClient, make_body, make_header  # noqa: E402
from xqueue_bridge.shadow.models import Comparison  # noqa: E402
from xqueue_bridge.sink import learners  # noqa: E402
from xqueue_bridge.sink.models import LearnerUpdate  # noqa: E402
from xqueue_bridge.stage import rollout  # noqa: E402


def setup(username: str, password: str) -> None:
    call_command("migrate", interactive=False, verbosity=0)
    ensure_user(username, password)
    ensure_user("lms", password)


def course_of(queue: str) -> str:
    return f"course-v1:Bench+{queue.replace('_', '').replace('-', '')}+2026"


def seed(queue: str, n: int, stage: str, base_url: str, password: str, callback_urls: list[str] | None = None) -> int:
    """Submit ``n`` answers through ``base_url``; their callbacks go to ``callback_urls`` in turn (or ``base_url``)."""
    callback_urls = callback_urls or [base_url]
    course = course_of(queue)
    rollout.set_stage(course, stage, reason="benchmark", changed_by="bench", force=True, allow_unseen=True)
    answers = []
    for number in range(n):
        usage = f"block-v1:{course.removeprefix('course-v1:')}+type@problem+block@p{number}"
        key = secrets.token_hex(16)
        learners.begin_attempt(course, usage, str(number + 1), f"anon-{number}", key)
        callback = callback_urls[number % len(callback_urls)]
        url = f"{callback}/courses/{course}/xqueue/{number + 1}/{quote_slashes(usage)}/score_update"
        answers.append((make_header(url, key, queue), make_body("answer", f"anon-{number}")))
    clients = [LmsClient(base_url, "lms", password) for _ in range(4)]

    def submit(index: int) -> None:
        for header, body in answers[index::len(clients)]:
            code, content = clients[index].submit(header, body)
            if code != 0:
                raise RuntimeError(f"submit refused: {content}")

    with ThreadPoolExecutor(len(clients)) as pool:
        list(pool.map(submit, range(len(clients))))
    return n


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def wait(queue: str, n: int, timeout: float, shadow: bool = False) -> dict:
    course = course_of(queue)
    deadline = time.monotonic() + timeout
    rows = LearnerUpdate.objects.filter(problem__course_id=course)
    while rows.count() < n and time.monotonic() < deadline:
        time.sleep(0.05)
        close_old_connections()
    per_problem = rows.values("problem").annotate(times=Count("id"))
    last = rows.aggregate(last=Max("created_at"))["last"]
    report = {
        "delivered": rows.count(), "results": rows.filter(applied=True).values("problem").distinct().count(),
        "doubled": per_problem.filter(times__gt=1).count(), "last_delivery_at": last.timestamp() if last else None,
    }
    if shadow:
        report["shadow"] = _shadow_report(course, n, deadline, last)
    return report


def _shadow_report(course: str, n: int, deadline: float, last_delivery) -> dict:
    """Comparisons done (or shed) when the last result reached its learner, the lag of those conducted, how
    many were shed, and the backlog over time (results neither compared nor shed yet, each second)."""
    compared = Comparison.objects.filter(course_id=course, trigger=Comparison.Trigger.RESULT).exclude(
        status=Comparison.Status.PENDING)
    deliveries = Delivery.objects.filter(submission__course_id=course, kind=Delivery.Kind.RESULT)
    sampled = deliveries.count()  # every result is a comparison at SAMPLE_RATE 1
    while compared.count() < sampled and time.monotonic() < deadline:
        time.sleep(0.05)
        close_old_connections()
    # Shed rows (SHADOW["MAX_LAG"]) leave the backlog when shed, but their lag is no comparison's.
    rows = list(compared.values_list("compared_at", "delivery__finished_at", "status"))
    pairs = [(done, delivered) for done, delivered, status in rows if status != Comparison.Status.SHED]
    lags = [(done - delivered).total_seconds() for done, delivered in pairs if done and delivered]
    finished = sorted(d.timestamp() for d in deliveries.values_list("finished_at", flat=True) if d)
    done_at = sorted(done.timestamp() for done, _, _ in rows if done)
    backlog = []
    if finished:
        start, step = finished[0], 1.0
        t = start
        while t <= max(finished[-1], done_at[-1] if done_at else t) + step and len(backlog) < 600:
            backlog.append(sum(1 for f in finished if f <= t) - sum(1 for d in done_at if d <= t))
            t += step
    return {
        "comparisons": len(pairs), "results": sampled, "shed": len(rows) - len(pairs),
        "done_by_last_delivery": sum(1 for done in done_at if last_delivery and done <= last_delivery.timestamp()),
        "statuses": dict(compared.values_list("status").annotate(c=Count("id"))),
        "lag_p50_s": _percentile(lags, 0.5), "lag_p99_s": _percentile(lags, 0.99), "lag_max_s": max(lags, default=None),
        "within_5s": sum(1 for lag in lags if lag <= 5.0), "backlog_each_second": backlog,
    }


if __name__ == "__main__":
    serve({"setup": setup, "seed": seed, "wait": wait})
