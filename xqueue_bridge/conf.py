"""
Settings of xqueue-bridge, read through one helper with documented defaults.

Every setting lives in the ``XQUEUE_BRIDGE`` dict of the Django settings; a key that is absent takes the
default below. The README's "Settings" table mirrors this module.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Queue names the intake accepts (legacy XQueue's ``XQUEUES``). A submit or pull naming any other
    # queue is refused with "unknown queue".
    "QUEUES": ["test-pull"],
    # Group whose members may use the XQueue API (LMS and grader accounts).
    "GROUP": "xqueue",
    # Optional HTTP basic auth in front of the XQueue API, as ``("user", "password")``; None turns it off.
    "HTTP_BASIC_AUTH": None,
    # Seconds after which a pulled submission with no reply is served to a grader again (new pullkey).
    "PULL_TIMEOUT": 300,
    # A problem's points_possible (edx-submissions reads the block's max_score; the LMS's XQueue client does
    # not send it). A submit may carry a ``points_possible`` field; else this table is read by usage key,
    # then course id, then "queue:<name>": {"block-v1:...": 3, "course-v1:...": 2, "queue:python": 1}.
    "POINTS_POSSIBLE": {},
    # points_possible of a submission nothing above names (edx-submissions' own default).
    "DEFAULT_POINTS_POSSIBLE": 1,
    # Grading attempts before a submission whose replies the event path cannot score is given up.
    "MAX_GRADING_ATTEMPTS": 3,
    # Origins (``scheme://host[:port]``) callbacks may go to. ``*`` as the port allows any port of that host.
    # Checked at submit time; an empty list refuses every callback URL.
    "ALLOWED_CALLBACK_ORIGINS": [],
    # Explicit timeouts of the legacy HTTP callback (seconds), as the LMS's own client uses.
    "CALLBACK_CONNECT_TIMEOUT": 3.05,
    "CALLBACK_READ_TIMEOUT": 10.0,
    # TLS verification of callbacks: True (the system's CAs), or the path of a CA bundle (an LMS behind an
    # internal CA). Never turned off.
    "CALLBACK_VERIFY": True,
    # Optional HTTP basic auth sent with each callback (legacy XQueue's REQUESTS_BASIC_AUTH).
    "CALLBACK_BASIC_AUTH": None,
    # How deliveries run after the put_result transaction commits:
    #   "thread": a pool in the web process (default); "sync": before the response (tests, benchmarks);
    #   "celery": a Celery task; "worker": left to ``xqueue-bridge worker`` alone.
    "DELIVERY_MODE": "thread",
    "DELIVERY_THREADS": 4,
    # Dotted path of the Celery app that queues delivery tasks in DELIVERY_MODE "celery". None: the current
    # app (a project's own, when the bridge is installed in it); the standalone settings name the bridge's.
    "CELERY_APP": None,
    # Retry policy of a failed delivery (see xqueue_bridge.outbox.retry.RetryPolicy).
    # By default a result is retried for 24 h (max_age); max_attempts (None: no limit) can cut that short.
    "DELIVERY_RETRY": {
        "max_attempts": None,
        "max_age": 24 * 3600,
        "backoff_factor": 1.0,
        "backoff_max": 600.0,
        "jitter": 0.5,
    },
    # Seconds a delivery claimed by a process stays claimed; a process that dies loses it after this.
    "DELIVERY_LEASE": 60,
    # Poll interval (seconds) of ``xqueue-bridge worker`` and of the drainer thread of ``serve``.
    "WORKER_POLL_INTERVAL": 1.0,
    # When a delivery is given up, tell the learner the way XQueue's failure message does.
    "NOTIFY_LEARNER_ON_FAILURE": True,
    # The renderer both receiving ends call (dotted path). The standalone one keeps learner problem state
    # in the bridge's database; inside an LMS the LMS's own sink renders and this only serves dry runs.
    "RENDERER": "xqueue_bridge.sink.renderer.StandaloneRenderer",
    # Whether the bridge hosts the receiving ends itself: the xqueue_callback-compatible URL and a
    # receiver of EXTERNAL_GRADER_SCORE_SUBMITTED. Turn off beside a real LMS.
    "RECEIVING_ENDS": True,
    # Remove scripts, event handlers and javascript: URLs from grader HTML before a learner sees it.
    "SANITIZE_FEEDBACK": True,
    # Size limits of the intake (bytes / count). A request over them is refused with HTTP 413.
    "MAX_REQUEST_BYTES": 20 * 1024 * 1024,
    "MAX_FILES": 20,
    "MAX_FILE_BYTES": 10 * 1024 * 1024,
    "MAX_REPLY_BYTES": 1024 * 1024,
    # Days ``xqueue-bridge purge-submissions`` keeps finished submissions (learner code, grader replies).
    "SUBMISSION_RETENTION_DAYS": 90,
    # Shadow comparison (xqueue_bridge.shadow; docs/decisions/0008-shadow-comparison.rst).
    "SHADOW": {
        # Fraction (0..1) of a shadow course's results that are compared, unless a course or org sets its own.
        # The choice is deterministic per submission (a hash of its id), so retries and duplicates agree.
        "SAMPLE_RATE": 1.0,
        # Per-course or per-org sample rates: {"course-v1:Org+C+R": 0.1, "Org": 0.5}; a course beats its org.
        "COURSE_SAMPLE_RATES": {},
        # Also compare the authoritative path with itself (a second comparison per sampled result, flagged
        # "noise"), to measure how often a path disagrees with itself; readiness and the guardrail skip them.
        "NOISE_BASELINE": False,
        # Keep the full normalized values of both paths (the feedback may hold learner code and personal
        # data). Off: the diff keeps scalar values (points, correctness, error...) and a digest of the feedback.
        "STORE_FULL_VALUES": False,
        # Days a comparison is kept; ``xqueue-bridge purge-comparisons`` deletes older ones.
        "RETENTION_DAYS": 30,
        # With DELIVERY_MODE "thread", comparisons run in one thread of their own per process, each starting
        # no sooner than this many seconds after its trigger, so that the grader's answer is out first.
        "START_DELAY": 0.05,
        # Named normalisations applied, in order, to both observations before comparing (shadow/rules.py).
        "CLEAN_RULES": ["nbsp", "collapse_whitespace", "points_precision"],
        # Named accepted differences: a mismatch whose differing fields they all cover is "ignored".
        "IGNORE_RULES": [],
    },
    # When a course in a shadow stage may move to the next stage (``xqueue-bridge readiness``): at least
    # MIN_COMPARISONS decided comparisons in its current stage, the first at least MIN_HOURS ago, a mismatch
    # rate (mismatched / decided) and an error rate (errored / all) at or below the maxima.
    "READINESS": {"MIN_COMPARISONS": 100, "MIN_HOURS": 24.0, "MAX_MISMATCH_RATE": 0.0, "MAX_ERROR_RATE": 0.0},
    # Opt-in guardrail: move a course in shadow_event or event back to shadow_callback (a course override by
    # "guardrail" whose reason gives the figures) when, over the last WINDOW_HOURS and at least MIN_COMPARISONS
    # results, its mismatch rate or its error rate (results the event path failed: refused, given up,
    # undeliverable) is above the maximum. Checked after each comparison of a shadow_event course, and for
    # event courses by the worker every CHECK_INTERVAL seconds.
    "GUARDRAIL": {
        "ENABLED": False,
        "MAX_MISMATCH_RATE": 0.05,
        "MAX_ERROR_RATE": 0.05,
        "MIN_COMPARISONS": 20,
        "WINDOW_HOURS": 24.0,
        "CHECK_INTERVAL": 60.0,
    },
    # .. setting_name: XQUEUE_BRIDGE['HEALTH_MAX_DUE_AGE']
    # .. setting_default: 300.0
    # .. setting_description: Seconds the oldest due delivery may wait before ``/health/`` answers 503
    #   with the outbox as the failing part (a stalled outbox: no drainer, worker or Celery running).
    "HEALTH_MAX_DUE_AGE": 300.0,
    # .. setting_name: XQUEUE_BRIDGE['METRICS_WINDOW_HOURS']
    # .. setting_default: 24.0
    # .. setting_description: Hours of shadow comparisons ``/metrics`` counts by stage and verdict (an
    #   indexed range of recent rows, not a count of every kept comparison).
    "METRICS_WINDOW_HOURS": 24.0,
}


def get_setting(name: str) -> Any:
    """Return ``XQUEUE_BRIDGE[name]``, or its documented default; nested dicts are merged key by key."""
    if name not in DEFAULTS:
        known = ", ".join(sorted(DEFAULTS))
        raise KeyError(f"Unknown xqueue-bridge setting {name!r}; known settings: {known}")
    configured = getattr(settings, "XQUEUE_BRIDGE", {}) or {}
    default = DEFAULTS[name]
    if name not in configured:
        return default
    value = configured[name]
    if isinstance(default, dict) and isinstance(value, dict):
        return {**default, **value}
    return value
