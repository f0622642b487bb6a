"""
``/metrics``: Prometheus metrics of the bridge.

Two kinds. Counters and histograms of what this process did (deliveries by path and outcome, retries,
reply-to-delivery latency, submissions by stage), kept by prometheus-client; under gunicorn set
``PROMETHEUS_MULTIPROC_DIR`` (``serve`` sets it to ``$XQUEUE_BRIDGE_HOME/metrics``) so every worker
process, and ``worker`` with the same variable, add up. And gauges read from the database at each scrape
(queue lengths and oldest ages, live submissions by stage, pending / retrying / dead deliveries,
comparisons by verdict over METRICS_WINDOW_HOURS), true whatever process did the work.
When a health check fails the page answers 503 (Prometheus records the scrape as down) with what it has.
"""

from __future__ import annotations

import os

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from xqueue_bridge.cockpit import health, stats
from xqueue_bridge.conf import get_setting

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

SUBMISSIONS = Counter("xqueue_bridge_submissions", "Submissions accepted, by stage decided", ["stage"])
DELIVERIES = Counter(
    "xqueue_bridge_delivery_attempts", "Delivery attempts by path, kind and outcome", ["path", "kind", "outcome"]
)
RETRIES = Counter("xqueue_bridge_delivery_retries", "Failed delivery attempts that will be retried", ["path"])
DEAD = Counter("xqueue_bridge_deliveries_given_up", "Deliveries given up (dead)", ["path", "kind"])
LATENCY = Histogram(
    "xqueue_bridge_delivery_latency_seconds", "Time from the grader's reply to the delivery", ["path"],
    buckets=stats.LATENCY_BUCKETS,
)
ATTEMPT = Histogram(
    "xqueue_bridge_delivery_attempt_seconds", "Duration of one delivery attempt", ["path"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15),
)


class DatabaseCollector(Collector):
    """Gauges read from the database at each scrape, each one aggregate query."""

    def collect(self):
        queue = GaugeMetricFamily(
            "xqueue_bridge_queue_length", "Items per queue and status", labels=["queue", "status"]
        )
        age = GaugeMetricFamily(
            "xqueue_bridge_queue_oldest_age_seconds", "Age of the oldest item per queue and status",
            labels=["queue", "status"],
        )
        for row in stats.queue_lengths():
            queue.add_metric([row["queue"], row["status"]], row["count"])
            age.add_metric([row["queue"], row["status"]], row["oldest_age"] or 0.0)
        yield queue
        yield age
        live = GaugeMetricFamily(
            "xqueue_bridge_live_submissions", "Submissions queued or pulled, by stage", labels=["stage", "status"]
        )
        for (stage, status), count in sorted(stats.live_submissions_by_stage().items()):
            live.add_metric([stage, status], count)
        yield live
        backlog = stats.delivery_backlog()
        deliveries = GaugeMetricFamily(
            "xqueue_bridge_deliveries", "Deliveries not delivered, by state", labels=["state"]
        )
        oldest = GaugeMetricFamily(
            "xqueue_bridge_deliveries_oldest_age_seconds", "Age of the oldest delivery per state", labels=["state"]
        )
        for state in ("pending", "retrying", "dead"):
            deliveries.add_metric([state], backlog[state]["count"])
            oldest.add_metric([state], backlog[state]["oldest_age"] or 0.0)
        yield deliveries
        yield oldest
        yield GaugeMetricFamily(
            "xqueue_bridge_oldest_due_delivery_seconds", "How long the oldest due delivery has waited",
            value=backlog["oldest_due_age"] or 0.0,
        )
        window = float(get_setting("METRICS_WINDOW_HOURS"))
        comparisons = GaugeMetricFamily(
            "xqueue_bridge_comparisons",
            f"Shadow comparisons of the last {window:g} h by stage and verdict (shed: not compared, over MAX_LAG)",
            labels=["stage", "verdict"],
        )
        for (stage, verdict), count in sorted(stats.comparisons_by_verdict(window).items()):
            comparisons.add_metric([stage, verdict], count)
        yield comparisons


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return registry
    return REGISTRY


def health_gauge(results) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily("xqueue_bridge_health", "1 when the part answers (see /health/)", labels=["part"])
    for result in results:
        gauge.add_metric([result.part], 1 if result.ok else 0)
    return gauge


class _Fixed(Collector):
    def __init__(self, families):
        self.families = families

    def collect(self):
        yield from self.families


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    results = health.run_checks()
    healthy = all(result.ok for result in results)
    page = CollectorRegistry()
    page.register(_Fixed([health_gauge(results)]))
    if results[0].ok:  # the database answers: its gauges can be read
        page.register(DatabaseCollector())
    body = generate_latest(_registry()) + generate_latest(page)
    return HttpResponse(body, content_type=CONTENT_TYPE, status=200 if healthy else 503)
