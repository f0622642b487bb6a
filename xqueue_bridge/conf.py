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
    # points_possible of a submission whose submit request does not name one (edx-submissions' default).
    "DEFAULT_POINTS_POSSIBLE": 1,
    # Grading attempts before a submission whose replies the event path cannot score is given up.
    "MAX_GRADING_ATTEMPTS": 3,
    # Origins (``scheme://host[:port]``) callbacks may go to. ``*`` as the port allows any port of that host.
    # Checked at submit time; an empty list refuses every callback URL.
    "ALLOWED_CALLBACK_ORIGINS": [],
    # Explicit timeouts of the legacy HTTP callback (seconds), as the LMS's own client uses.
    "CALLBACK_CONNECT_TIMEOUT": 3.05,
    "CALLBACK_READ_TIMEOUT": 10.0,
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
    # Retry policy of a failed delivery (see xqueue_bridge.retry.RetryPolicy).
    "DELIVERY_RETRY": {
        "max_attempts": 10,
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
    "RENDERER": "xqueue_bridge.render.StandaloneRenderer",
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
    # Stage of a course no flag decides (before the rollout flags exist in the database).
    "DEFAULT_STAGE": "callback",
    # Shadow comparison.
    "SHADOW": {
        # Fraction (0..1) of a shadow course's results that are compared, unless a course sets its own.
        "SAMPLE_RATE": 1.0,
        # Per-course sample rates: {"course-v1:Org+C+R": 0.1}.
        "COURSE_SAMPLE_RATES": {},
        # Compare the authoritative path with itself to measure nondeterminism.
        "NOISE_BASELINE": False,
        # Keep the full compared values (they may hold learner code and personal data); else diff + digest.
        "STORE_FULL_VALUES": False,
        "RETENTION_DAYS": 30,
        # Named normalisations applied before comparing, and named accepted differences.
        "CLEAN_RULES": ["collapse_whitespace", "nbsp"],
        "IGNORE_RULES": [],
    },
    # When a course may move to the next stage.
    "READINESS": {"MIN_COMPARISONS": 100, "MIN_HOURS": 24.0, "MAX_MISMATCH_RATE": 0.0},
    # Opt-in guardrail: move a course in shadow_event or event back to shadow_callback.
    "GUARDRAIL": {
        "ENABLED": False,
        "MAX_MISMATCH_RATE": 0.05,
        "MAX_ERROR_RATE": 0.05,
        "MIN_COMPARISONS": 20,
        "WINDOW_HOURS": 24.0,
    },
}


def get_setting(name: str) -> Any:
    """Return ``XQUEUE_BRIDGE[name]``, or its documented default; nested dicts are merged key by key."""
    if name not in DEFAULTS:
        raise KeyError(f"Unknown xqueue-bridge setting {name!r}; known settings: {', '.join(sorted(DEFAULTS))}")
    configured = getattr(settings, "XQUEUE_BRIDGE", {}) or {}
    default = DEFAULTS[name]
    if name not in configured:
        return default
    value = configured[name]
    if isinstance(default, dict) and isinstance(value, dict):
        return {**default, **value}
    return value
