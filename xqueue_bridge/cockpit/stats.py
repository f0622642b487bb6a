"""
The figures of the cockpit, each one aggregate query (never a scan of rows into Python).

The dashboard, the API, ``/metrics`` and the ``queues`` command read these; with 10,000 courses and a
million comparisons each stays a handful of indexed GROUP BY queries.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from django.db.models import Count, F, Min, Q
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from xqueue_bridge.conf import get_setting
from xqueue_bridge.models import Delivery, DeliveryPath, Stage, Submission
from xqueue_bridge.shadow.models import Comparison

LIVE_STATUSES = (Submission.Status.QUEUED, Submission.Status.PULLED)
# Upper bounds (seconds) of the reply -> delivery latency buckets; the last bucket is open.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)
BUCKETS = {"hour": (TruncHour, timedelta(hours=1)), "day": (TruncDay, timedelta(days=1))}


def _age(now: datetime, since: datetime | None) -> float | None:
    return None if since is None else round(max(0.0, (now - since).total_seconds()), 3)


def queue_lengths(now: datetime | None = None) -> list[dict]:
    """Per queue and status: submissions waiting (queued) or held by a grader (pulled), deliveries pending,
    retrying or dead, each with the age of its oldest; every configured queue is listed, empty or not."""
    now = now or timezone.now()
    rows: dict[tuple, dict] = {}
    for queue in get_setting("QUEUES"):
        for status in ("queued", "pulled"):
            rows[(queue, status)] = {"queue": queue, "status": status, "count": 0, "oldest_age": None}
    live = (
        Submission.objects.filter(status__in=LIVE_STATUSES).order_by()
        .values("queue_name", "status").annotate(count=Count("id"), oldest=Min("created_at"))
    )
    for row in live:
        rows[(row["queue_name"], row["status"])] = {
            "queue": row["queue_name"], "status": row["status"], "count": row["count"],
            "oldest_age": _age(now, row["oldest"]),
        }
    waiting = (
        Delivery.objects.filter(status__in=(Delivery.Status.PENDING, Delivery.Status.DEAD)).order_by()
        .values("submission__queue_name", "status")
        .annotate(
            count=Count("id"), oldest=Min("created_at"),
            retrying=Count("id", filter=Q(attempts__gt=0)),
            oldest_retrying=Min("created_at", filter=Q(attempts__gt=0)),
        )
    )
    for row in waiting:
        queue = row["submission__queue_name"]
        if row["status"] == Delivery.Status.DEAD:
            parts = [("delivery dead", row["count"], row["oldest"])]
        else:
            parts = [("delivery pending", row["count"] - row["retrying"], row["oldest"] if row["count"] > row[
                "retrying"] else None), ("delivery retrying", row["retrying"], row["oldest_retrying"])]
        for status, count, oldest in parts:
            if count:
                rows[(queue, status)] = {"queue": queue, "status": status, "count": count,
                                         "oldest_age": _age(now, oldest)}
    order = {"queued": 0, "pulled": 1, "delivery pending": 2, "delivery retrying": 3, "delivery dead": 4}
    return sorted(rows.values(), key=lambda row: (row["queue"], order[row["status"]]))


def delivery_backlog(now: datetime | None = None) -> dict:
    """Deliveries pending (never tried), retrying (tried and failed) and dead, with their oldest age, and
    the age of the oldest delivery that is due now (what a stalled outbox shows first)."""
    now = now or timezone.now()
    figures = Delivery.objects.filter(status__in=(Delivery.Status.PENDING, Delivery.Status.DEAD)).aggregate(
        pending=Count("id", filter=Q(status=Delivery.Status.PENDING, attempts=0)),
        pending_oldest=Min("created_at", filter=Q(status=Delivery.Status.PENDING, attempts=0)),
        retrying=Count("id", filter=Q(status=Delivery.Status.PENDING, attempts__gt=0)),
        retrying_oldest=Min("created_at", filter=Q(status=Delivery.Status.PENDING, attempts__gt=0)),
        dead=Count("id", filter=Q(status=Delivery.Status.DEAD)),
        dead_oldest=Min("created_at", filter=Q(status=Delivery.Status.DEAD)),
    )
    due = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now).aggregate(
        oldest=Min("next_attempt_at")
    )["oldest"]
    return {
        **{name: {"count": figures[name], "oldest_age": _age(now, figures[f"{name}_oldest"])}
           for name in ("pending", "retrying", "dead")},
        "oldest_due_age": _age(now, due),
    }


def oldest_due_age(now: datetime | None = None) -> float | None:
    """Seconds the oldest due delivery has waited past its time (None: nothing is due)."""
    now = now or timezone.now()
    due = Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now).aggregate(
        oldest=Min("next_attempt_at"))["oldest"]
    return _age(now, due)


def _window(bucket: str, periods: int, now: datetime) -> tuple:
    if bucket not in BUCKETS:
        raise ValueError(f"bucket={bucket!r}: expected hour or day")
    if not 1 <= periods <= 400:
        raise ValueError(f"periods={periods}: expected 1 to 400")
    trunc, step = BUCKETS[bucket]
    start = (now - step * (periods - 1)).replace(minute=0, second=0, microsecond=0)
    if bucket == "day":
        start = start.replace(hour=0)
    return trunc, step, start


def _slots(start: datetime, step: timedelta, periods: int) -> list[datetime]:
    return [start + step * i for i in range(periods)]


def _key(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:00Z")


def volume_series(bucket: str = "hour", periods: int = 48, *, course: str | None = None,
                  now: datetime | None = None) -> list[dict]:
    """Results delivered per hour or day by path (failure notices apart), oldest first, empty periods as 0."""
    now = now or timezone.now()
    trunc, step, start = _window(bucket, periods, now)
    rows = Delivery.objects.filter(created_at__gte=start, status=Delivery.Status.DELIVERED)
    if course:
        rows = rows.filter(submission__course_id=course)
    counts = (
        rows.order_by().annotate(period=trunc("created_at")).values("period", "path", "kind")
        .annotate(count=Count("id"))
    )
    series: dict[str, Counter] = defaultdict(Counter)
    for row in counts:
        name = row["path"] if row["kind"] == Delivery.Kind.RESULT else "failure_notice"
        series[_key(row["period"])][name] += row["count"]
    return [
        {"period": _key(slot), **{name: series[_key(slot)][name] for name in (*DeliveryPath.values, "failure_notice")}}
        for slot in _slots(start, step, periods)
    ]


def match_series(bucket: str = "day", periods: int = 30, *, course: str | None = None,
                 now: datetime | None = None) -> list[dict]:
    """Shadow comparisons per period by what the learner gets (the learner-visible verdict; a comparison from
    before that split counts whole), and the match rate: matched and ignored over decided."""
    now = now or timezone.now()
    trunc, step, start = _window(bucket, periods, now)
    rows = Comparison.objects.filter(created_at__gte=start, noise=False)
    if course:
        rows = rows.filter(course_id=course)
    counts = rows.order_by().annotate(period=trunc("created_at")).values(
        "period", "status", "learner_status").annotate(count=Count("id"))
    series: dict[str, Counter] = defaultdict(Counter)
    for row in counts:
        decided = row["status"] in (Comparison.Status.MATCHED, Comparison.Status.MISMATCHED, Comparison.Status.IGNORED)
        verdict = row["learner_status"] or row["status"] if decided else row["status"]
        series[_key(row["period"])][verdict] += row["count"]
    out = []
    for slot in _slots(start, step, periods):
        figures = series[_key(slot)]
        decided = figures["matched"] + figures["mismatched"] + figures["ignored"]
        out.append({
            "period": _key(slot), **{status: figures[status] for status in Comparison.Status.values},
            "match_rate": round((figures["matched"] + figures["ignored"]) / decided, 4) if decided else None,
        })
    return out


def latency(hours: float = 24.0, *, now: datetime | None = None) -> dict:
    """p50 / p99 (bucket upper bounds, as Prometheus' histogram_quantile reads them) of the time from the
    grader's reply (the delivery row is written in the reply's transaction) to its delivery, per path."""
    now = now or timezone.now()
    rows = Delivery.objects.filter(
        status=Delivery.Status.DELIVERED, kind=Delivery.Kind.RESULT, created_at__gte=now - timedelta(hours=hours)
    ).order_by()
    aggregates = {"total": Count("id")}
    for index, bound in enumerate(LATENCY_BUCKETS):
        aggregates[f"le{index}"] = Count("id", filter=Q(finished_at__lte=F("created_at") + timedelta(seconds=bound)))
    out = {}
    for row in rows.values("path").annotate(**aggregates):
        counts = [row[f"le{index}"] for index in range(len(LATENCY_BUCKETS))]
        out[row["path"]] = {
            "count": row["total"],
            "p50": _quantile(0.5, counts, row["total"]),
            "p99": _quantile(0.99, counts, row["total"]),
        }
    return {path: out.get(path, {"count": 0, "p50": None, "p99": None}) for path in DeliveryPath.values}


def _quantile(fraction: float, cumulative: list[int], total: int) -> float | None:
    if not total:
        return None
    for bound, count in zip(LATENCY_BUCKETS, cumulative, strict=True):
        if count >= fraction * total:
            return float(bound)
    return float("inf")


def stage_counts(stages: dict[str, str]) -> dict:
    """Courses per stage overall and per org, from ``{course: stage}``."""
    by_org: dict[str, Counter] = defaultdict(Counter)
    for course, stage in stages.items():
        by_org[org_of_course(course)][stage] += 1
    total = Counter(stages.values())
    return {
        "total": {stage: total[stage] for stage in Stage.values},
        "orgs": [{"org": org, **{stage: counts[stage] for stage in Stage.values}} for org, counts in
                 sorted(by_org.items())],
    }


def org_of_course(course_id: str) -> str:
    """The org of a course key (``course-v1:ORG+...`` or ``ORG/...``)."""
    return course_id.split(":", 1)[-1].split("+", 1)[0].split("/", 1)[0]


def comparisons_by_verdict(hours: float = 24.0, *, now: datetime | None = None) -> dict:
    """Comparisons created in the last ``hours``, by stage and verdict (an indexed range, not a full count)."""
    now = now or timezone.now()
    rows = (
        Comparison.objects.filter(created_at__gte=now - timedelta(hours=hours), noise=False).order_by()
        .values("stage", "status").annotate(count=Count("id"))
    )
    return {(row["stage"], row["status"]): row["count"] for row in rows}


def live_submissions_by_stage() -> dict:
    """Submissions waiting for or held by a grader, by stage and status."""
    rows = (
        Submission.objects.filter(status__in=LIVE_STATUSES).order_by().values("stage", "status")
        .annotate(count=Count("id"))
    )
    return {(row["stage"], row["status"]): row["count"] for row in rows}
