"""
Settings of xqueue-bridge, read through one helper with documented defaults.

Every setting lives in the ``XQUEUE_BRIDGE`` dict of the Django settings; a key that is absent takes the
default below. Each is annotated where it is defined, in the format Open edX's code_annotations reads
(name, default, description); the README's settings tables say the same, and
``tests/test_settings_contract.py`` fails when the two disagree.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # .. setting_name: XQUEUE_BRIDGE['QUEUES']
    # .. setting_default: ["test-pull"]
    # .. setting_description: Queue names the intake accepts (legacy XQueue's ``XQUEUES``). A submit or
    #   pull naming any other queue is refused with "unknown queue".
    "QUEUES": ["test-pull"],
    # .. setting_name: XQUEUE_BRIDGE['GROUP']
    # .. setting_default: "xqueue"
    # .. setting_description: The legacy group of XQueue accounts. An active member that has no role yet
    #   (no LMS_GROUP, GRADER_GROUP or per-queue grader group) keeps every role, so that a deployment made
    #   before roles keeps working; the system check xqueue_bridge.W002 warns while any such account exists.
    "GROUP": "xqueue",
    # .. setting_name: XQUEUE_BRIDGE['LMS_GROUP']
    # .. setting_default: "xqueue-lms"
    # .. setting_description: Group of the LMS role: its members may submit (and so supersede a learner's
    #   live submission), nothing else.
    "LMS_GROUP": "xqueue-lms",
    # .. setting_name: XQUEUE_BRIDGE['GRADER_GROUP']
    # .. setting_default: "xqueue-grader"
    # .. setting_description: Group of the grader role for every queue: its members may get_queuelen,
    #   get_submission and put_result. A member of "<GRADER_GROUP>:<queue>" (e.g. "xqueue-grader:python")
    #   grades that queue only.
    "GRADER_GROUP": "xqueue-grader",
    # .. setting_name: XQUEUE_BRIDGE['ROLE_CACHE_TTL']
    # .. setting_default: 5
    # .. setting_description: Seconds a process keeps an account's roles (its groups) between two XQueue
    #   requests instead of reading them each time. A role taken away by another process (the admin, ``xqueue-bridge
    #   users``) takes effect within this; in the same process, and a deactivated account, at once. 0: read each time.
    "ROLE_CACHE_TTL": 5,
    # .. setting_name: XQUEUE_BRIDGE['SERVICE_SECRET_MIN_LENGTH']
    # .. setting_default: 32
    # .. setting_description: Passwords of XQueue accounts set by ``xqueue-bridge users`` at least this long are
    #   stored with the service hasher (one salted HMAC-SHA256, ``xqueue_bridge.intake.accounts``) when it is in
    #   PASSWORD_HASHERS, so a login answers well within xqueue-watcher's 1 s timeout; shorter ones keep Django's
    #   default hasher. Only for secrets made by a random generator (``docs/decisions/0006``).
    "SERVICE_SECRET_MIN_LENGTH": 32,
    # .. setting_name: XQUEUE_BRIDGE['HTTP_BASIC_AUTH']
    # .. setting_default: None
    # .. setting_description: Optional HTTP basic auth in front of the XQueue API, as
    #   ``("user", "password")``; None turns it off.
    "HTTP_BASIC_AUTH": None,
    # .. setting_name: XQUEUE_BRIDGE['PULL_TIMEOUT']
    # .. setting_default: 300
    # .. setting_description: Seconds after which a pulled submission with no reply is served to a grader
    #   again (with a new pullkey).
    "PULL_TIMEOUT": 300,
    # .. setting_name: XQUEUE_BRIDGE['POINTS_POSSIBLE']
    # .. setting_default: {}
    # .. setting_description: A problem's points_possible (edx-submissions reads the block's max_score; the
    #   LMS's XQueue client does not send it). A submit may carry a ``points_possible`` field; else this
    #   table is read by usage key, then course id, then "queue:<name>", e.g.
    #   ``{"block-v1:...": 3, "course-v1:...": 2, "queue:python": 1}``.
    "POINTS_POSSIBLE": {},
    # .. setting_name: XQUEUE_BRIDGE['DEFAULT_POINTS_POSSIBLE']
    # .. setting_default: 1
    # .. setting_description: points_possible of a submission that POINTS_POSSIBLE does not name
    #   (edx-submissions' own default).
    "DEFAULT_POINTS_POSSIBLE": 1,
    # .. setting_name: XQUEUE_BRIDGE['MAX_GRADING_ATTEMPTS']
    # .. setting_default: 3
    # .. setting_description: Grading attempts before a submission whose replies the event path cannot score
    #   is given up.
    "MAX_GRADING_ATTEMPTS": 3,
    # .. setting_name: XQUEUE_BRIDGE['ALLOWED_CALLBACK_ORIGINS']
    # .. setting_default: []
    # .. setting_description: Origins (``scheme://host[:port]``) callbacks may go to; ``*`` as the port
    #   allows any port of that host. Checked at submit time and again before sending; an empty list
    #   refuses every callback URL.
    "ALLOWED_CALLBACK_ORIGINS": [],
    # .. setting_name: XQUEUE_BRIDGE['CALLBACK_CONNECT_TIMEOUT']
    # .. setting_default: 3.05
    # .. setting_description: Seconds to connect to the LMS for a legacy HTTP callback (the LMS's own client
    #   uses explicit timeouts too).
    "CALLBACK_CONNECT_TIMEOUT": 3.05,
    # .. setting_name: XQUEUE_BRIDGE['CALLBACK_READ_TIMEOUT']
    # .. setting_default: 10.0
    # .. setting_description: Seconds to wait for the LMS's answer to a legacy HTTP callback.
    "CALLBACK_READ_TIMEOUT": 10.0,
    # .. setting_name: XQUEUE_BRIDGE['CALLBACK_VERIFY']
    # .. setting_default: True
    # .. setting_description: TLS verification of callbacks: True (the system's CAs), or the path of a CA
    #   bundle (an LMS behind an internal CA).
    # .. setting_warning: Never turned off: a false value verifies with the system's CAs.
    "CALLBACK_VERIFY": True,
    # .. setting_name: XQUEUE_BRIDGE['CALLBACK_BASIC_AUTH']
    # .. setting_default: None
    # .. setting_description: Optional HTTP basic auth sent with each callback, as ``("user", "password")``
    #   (legacy XQueue's REQUESTS_BASIC_AUTH).
    "CALLBACK_BASIC_AUTH": None,
    # .. setting_name: XQUEUE_BRIDGE['DELIVERY_MODE']
    # .. setting_default: "thread"
    # .. setting_description: How deliveries run after the put_result transaction commits: "thread" (a pool
    #   in the web process), "sync" (before the response; tests, benchmarks), "celery" (a Celery task) or
    #   "worker" (left to ``xqueue-bridge worker`` alone).
    "DELIVERY_MODE": "thread",
    # .. setting_name: XQUEUE_BRIDGE['DELIVERY_THREADS']
    # .. setting_default: 4
    # .. setting_description: Delivery threads per web process in DELIVERY_MODE "thread".
    "DELIVERY_THREADS": 4,
    # .. setting_name: XQUEUE_BRIDGE['CELERY_APP']
    # .. setting_default: None
    # .. setting_description: Dotted path of the Celery app that queues delivery tasks in DELIVERY_MODE
    #   "celery". None: the current app (a project's own, when the bridge is installed in it); the
    #   standalone settings name the bridge's (``xqueue_bridge.runtime.celery_app.app``).
    "CELERY_APP": None,
    # Retry policy of a failed delivery (xqueue_bridge.outbox.retry.RetryPolicy); a project sets any of its
    # keys, the others keep their defaults. With them all, a result is retried for 24 h, about 150 times.
    "DELIVERY_RETRY": {
        # .. setting_name: XQUEUE_BRIDGE['DELIVERY_RETRY']['max_attempts']
        # .. setting_default: None
        # .. setting_description: Attempts before a delivery is given up; None: no limit (max_age decides).
        "max_attempts": None,
        # .. setting_name: XQUEUE_BRIDGE['DELIVERY_RETRY']['max_age']
        # .. setting_default: 24 * 3600
        # .. setting_description: Seconds a delivery is retried for (its age) before it is given up.
        "max_age": 24 * 3600,
        # .. setting_name: XQUEUE_BRIDGE['DELIVERY_RETRY']['backoff_factor']
        # .. setting_default: 1.0
        # .. setting_description: Seconds before the first retry; each later wait doubles, up to backoff_max.
        "backoff_factor": 1.0,
        # .. setting_name: XQUEUE_BRIDGE['DELIVERY_RETRY']['backoff_max']
        # .. setting_default: 600.0
        # .. setting_description: The longest wait between two attempts, in seconds.
        "backoff_max": 600.0,
        # .. setting_name: XQUEUE_BRIDGE['DELIVERY_RETRY']['jitter']
        # .. setting_default: 0.5
        # .. setting_description: Each wait is moved by up to this fraction of itself, either way, so that
        #   retries of many deliveries do not arrive together.
        "jitter": 0.5,
    },
    # .. setting_name: XQUEUE_BRIDGE['DELIVERY_LEASE']
    # .. setting_default: 60
    # .. setting_description: Seconds a delivery claimed by a process stays claimed; a process that dies
    #   loses it after this. Keep it above the longest attempt (callback connect + read timeouts).
    "DELIVERY_LEASE": 60,
    # .. setting_name: XQUEUE_BRIDGE['WORKER_POLL_INTERVAL']
    # .. setting_default: 1.0
    # .. setting_description: Seconds between the idle passes of ``xqueue-bridge worker`` and of the
    #   drainer thread of ``serve``.
    "WORKER_POLL_INTERVAL": 1.0,
    # .. setting_name: XQUEUE_BRIDGE['NOTIFY_LEARNER_ON_FAILURE']
    # .. setting_default: True
    # .. setting_description: When a delivery is given up, tell the learner the way XQueue's failure message
    #   does ("could not be graded").
    "NOTIFY_LEARNER_ON_FAILURE": True,
    # .. setting_name: XQUEUE_BRIDGE['RENDERER']
    # .. setting_default: "xqueue_bridge.sink.renderer.StandaloneRenderer"
    # .. setting_description: Dotted path of the renderer class both receiving ends call. The standalone one
    #   keeps learner problem state in the bridge's database; inside an LMS the LMS's own sink renders and
    #   this one only serves dry runs.
    "RENDERER": "xqueue_bridge.sink.renderer.StandaloneRenderer",
    # .. setting_name: XQUEUE_BRIDGE['RECEIVING_ENDS']
    # .. setting_default: True
    # .. setting_description: Whether the bridge hosts the receiving ends itself: the
    #   xqueue_callback-compatible URL and a receiver of EXTERNAL_GRADER_SCORE_SUBMITTED. Turn it off
    #   beside a real LMS.
    "RECEIVING_ENDS": True,
    # .. setting_name: XQUEUE_BRIDGE['RECEIVING_ENDS_SECRET']
    # .. setting_default: None
    # .. setting_description: The installation's secret with which every callback the bridge sends is
    #   signed (header X-XQueue-Bridge-Signature, an HMAC-SHA256 of the header and body); the standalone
    #   callback URL accepts only callbacks signed with it (403 otherwise). None: a key derived from
    #   Django's SECRET_KEY, which every process of one installation shares. Set it (at least 32
    #   characters) to rotate it apart from SECRET_KEY.
    "RECEIVING_ENDS_SECRET": None,
    # .. setting_name: XQUEUE_BRIDGE['EVENT_RECEIVERS']
    # .. setting_default: []
    # .. setting_description: Dotted paths of in-process receivers of EXTERNAL_GRADER_SCORE_SUBMITTED that
    #   are receiving ends of the event path: each is called as the signal calls its receivers, on its own,
    #   and confirms a result when it returns (a receiver that raises is retried; the ends that confirmed
    #   are not sent to again). A receiver connected to the signal but not listed here does not get the
    #   bridge's results. A path that cannot be imported is not counted as a receiving end. Inside an LMS
    #   the plugin settings make it ["lms.djangoapps.grades.signals.handlers.handle_external_grader_score"].
    "EVENT_RECEIVERS": [],
    # .. setting_name: XQUEUE_BRIDGE['PLUGIN_URL_PREFIX']
    # .. setting_default: "xqueue-bridge/"
    # .. setting_description: Inside an LMS, the path under which the plugin serves the XQueue API: with the
    #   default, ``/xqueue-bridge/xqueue/submit/`` and the rest, so the LMS's ``XQUEUE_INTERFACE["url"]``
    #   and xqueue-watcher's ``SERVER`` are ``https://LMS_HOST/xqueue-bridge``. Empty: ``/xqueue/...`` at the
    #   LMS's root. Read when the LMS loads its URLs.
    "PLUGIN_URL_PREFIX": "xqueue-bridge/",
    # .. setting_name: XQUEUE_BRIDGE['SANITIZE_FEEDBACK']
    # .. setting_default: True
    # .. setting_description: Remove scripts, event handlers and javascript: URLs from grader HTML before a
    #   learner sees it.
    "SANITIZE_FEEDBACK": True,
    # .. setting_name: XQUEUE_BRIDGE['MAX_REQUEST_BYTES']
    # .. setting_default: 20 * 1024 * 1024
    # .. setting_description: Largest request body the intake accepts, in bytes; a larger one is refused
    #   with HTTP 413.
    "MAX_REQUEST_BYTES": 20 * 1024 * 1024,
    # .. setting_name: XQUEUE_BRIDGE['MAX_FILES']
    # .. setting_default: 20
    # .. setting_description: Most files one submit may carry (HTTP 413 above).
    "MAX_FILES": 20,
    # .. setting_name: XQUEUE_BRIDGE['MAX_FILE_BYTES']
    # .. setting_default: 10 * 1024 * 1024
    # .. setting_description: Largest file of a submit, in bytes (HTTP 413 above).
    "MAX_FILE_BYTES": 10 * 1024 * 1024,
    # .. setting_name: XQUEUE_BRIDGE['MAX_REPLY_BYTES']
    # .. setting_default: 2560 * 1024
    # .. setting_description: Largest grader reply (xqueue_body, UTF-8 bytes) accepted. Legacy XQueue
    #   forwards any reply whose put_result form body fits Django's default DATA_UPLOAD_MAX_MEMORY_SIZE
    #   (2.5 MiB), so the same size is accepted here. A larger reply is a failed grading attempt of its
    #   submission on every path: refused with HTTP 413 and the reason, re-queued for a fresh grading, and
    #   after MAX_GRADING_ATTEMPTS failed with the learner's failure notice. ``manage check`` refuses a value
    #   above DATA_UPLOAD_MAX_MEMORY_SIZE or MAX_REQUEST_BYTES.
    "MAX_REPLY_BYTES": 2560 * 1024,
    # .. setting_name: XQUEUE_BRIDGE['SUBMISSION_RETENTION_DAYS']
    # .. setting_default: 90
    # .. setting_description: Days ``xqueue-bridge purge-submissions`` keeps finished submissions (learner
    #   code, grader replies), their deliveries, comparisons and files.
    "SUBMISSION_RETENTION_DAYS": 90,
    # Shadow comparison (xqueue_bridge.shadow; docs/decisions/0008-shadow-comparison.rst).
    "SHADOW": {
        # .. setting_name: XQUEUE_BRIDGE['SHADOW']['SAMPLE_RATE']
        # .. setting_default: 1.0
        # .. setting_description: Fraction (0..1) of a shadow course's results that are compared, unless a
        #   course or org sets its own. The choice is deterministic per submission (a hash of its id), so
        #   retries and duplicates agree.
        "SAMPLE_RATE": 1.0,
        # .. setting_name: XQUEUE_BRIDGE['SHADOW']['COURSE_SAMPLE_RATES']
        # .. setting_default: {}
        # .. setting_description: Per-course or per-org sample rates, e.g.
        #   ``{"course-v1:Org+C+R": 0.1, "Org": 0.5}``; a course's rate beats its org's.
        "COURSE_SAMPLE_RATES": {},
        # .. setting_name: XQUEUE_BRIDGE['SHADOW']['NOISE_BASELINE']
        # .. setting_default: False
        # .. setting_description: Also compare the authoritative path with itself (a second comparison per
        #   sampled result, flagged "noise"), to measure how often a path disagrees with itself; readiness
        #   and the guardrail skip these.
        "NOISE_BASELINE": False,
        # .. setting_name: XQUEUE_BRIDGE['SHADOW']['STORE_FULL_VALUES']
        # .. setting_default: False
        # .. setting_description: Keep the full normalized values of both paths. Off: the diff keeps scalar
        #   values (points, correctness, error...) and a digest of the feedback.
        # .. setting_warning: The feedback may hold learner code and personal data.
        "STORE_FULL_VALUES": False,
        # .. setting_name: XQUEUE_BRIDGE['SHADOW']['RETENTION_DAYS']
        # .. setting_default: 30
        # .. setting_description: Days a comparison is kept; ``xqueue-bridge purge-comparisons`` deletes
        #   older ones.
        "RETENTION_DAYS": 30,
        # .. setting_name: XQUEUE_BRIDGE['SHADOW']['START_DELAY']
        # .. setting_default: 0.05
        # .. setting_description: With DELIVERY_MODE "thread", comparisons run in one thread of their own
        #   per process, each starting no sooner than this many seconds after its trigger, so that the
        #   grader's answer is out first.
        "START_DELAY": 0.05,
        # .. setting_name: XQUEUE_BRIDGE['SHADOW']['MAX_LAG']
        # .. setting_default: 5.0
        # .. setting_description: With DELIVERY_MODE "thread", the most seconds a comparison may start after
        #   its trigger. One that would start later is not conducted: it is kept as "shed" with the reason
        #   (how many were waiting, how far behind), counted by the report, readiness and ``/metrics`` but
        #   in no rate, so the comparisons stay within this of their results under any load. None: never
        #   shed (comparisons then trail a sustained overload without bound). docs/decisions/0013.
        "MAX_LAG": 5.0,
        # .. setting_name: XQUEUE_BRIDGE['SHADOW']['CLEAN_RULES']
        # .. setting_default: ["nbsp", "collapse_whitespace", "points_precision"]
        # .. setting_description: Named normalizations applied, in order, to both observations before
        #   comparing (xqueue_bridge/shadow/rules.py; also ``feedback_text``).
        "CLEAN_RULES": ["nbsp", "collapse_whitespace", "points_precision"],
        # .. setting_name: XQUEUE_BRIDGE['SHADOW']['IGNORE_RULES']
        # .. setting_default: []
        # .. setting_description: Named accepted differences (``points_rounding``, ``points_units``,
        #   ``duplicate_reply``): a mismatch whose differing fields they all cover is "ignored".
        "IGNORE_RULES": [],
    },
    # When a course in a shadow stage may move to the next stage (``xqueue-bridge readiness``). The mismatch
    # rate counts what the learner gets (docs/decisions/0011); differences of record are reported beside it.
    "READINESS": {
        # .. setting_name: XQUEUE_BRIDGE['READINESS']['MIN_COMPARISONS']
        # .. setting_default: 100
        # .. setting_description: Decided comparisons a course needs in its current stage.
        "MIN_COMPARISONS": 100,
        # .. setting_name: XQUEUE_BRIDGE['READINESS']['MIN_HOURS']
        # .. setting_default: 24.0
        # .. setting_description: Hours since the first of those comparisons.
        "MIN_HOURS": 24.0,
        # .. setting_name: XQUEUE_BRIDGE['READINESS']['MAX_MISMATCH_RATE']
        # .. setting_default: 0.0
        # .. setting_description: Highest mismatch rate (mismatched / decided) of a ready course.
        "MAX_MISMATCH_RATE": 0.0,
        # .. setting_name: XQUEUE_BRIDGE['READINESS']['MAX_ERROR_RATE']
        # .. setting_default: 0.0
        # .. setting_description: Highest error rate (errored / compared) of a ready course.
        "MAX_ERROR_RATE": 0.0,
        # .. setting_name: XQUEUE_BRIDGE['READINESS']['BLOCK_ON_RECORD_DIFFERENCES']
        # .. setting_default: False
        # .. setting_description: Also hold differences of record (what the paths carry or store that no
        #   learner sees: the event's integer points_earned, Avro truncation, a path's error code) to
        #   MAX_MISMATCH_RATE. Off: they are counted and listed beside readiness, blocking nothing.
        "BLOCK_ON_RECORD_DIFFERENCES": False,
    },
    # Opt-in guardrail: move a course in shadow_event or event back to shadow_callback (a course override by
    # "guardrail" whose reason gives the figures) when, over the last WINDOW_HOURS and at least MIN_COMPARISONS
    # results, its mismatch rate or its error rate (results the event path failed: refused, given up,
    # undeliverable) is above the maximum. Checked after each comparison of a shadow_event course, and for
    # event courses by the worker every CHECK_INTERVAL seconds.
    "GUARDRAIL": {
        # .. setting_name: XQUEUE_BRIDGE['GUARDRAIL']['ENABLED']
        # .. setting_default: False
        # .. setting_description: Whether the guardrail moves misbehaving courses back to shadow_callback.
        "ENABLED": False,
        # .. setting_name: XQUEUE_BRIDGE['GUARDRAIL']['MAX_MISMATCH_RATE']
        # .. setting_default: 0.05
        # .. setting_description: Highest mismatch rate over the window before a course is moved back.
        "MAX_MISMATCH_RATE": 0.05,
        # .. setting_name: XQUEUE_BRIDGE['GUARDRAIL']['MAX_ERROR_RATE']
        # .. setting_default: 0.05
        # .. setting_description: Highest rate of results the event path failed (refused, given up,
        #   undeliverable) over the window before a course is moved back.
        "MAX_ERROR_RATE": 0.05,
        # .. setting_name: XQUEUE_BRIDGE['GUARDRAIL']['MIN_COMPARISONS']
        # .. setting_default: 20
        # .. setting_description: Results needed in the window before a course is judged.
        "MIN_COMPARISONS": 20,
        # .. setting_name: XQUEUE_BRIDGE['GUARDRAIL']['WINDOW_HOURS']
        # .. setting_default: 24.0
        # .. setting_description: Hours looked back (from the course's last move at the latest).
        "WINDOW_HOURS": 24.0,
        # .. setting_name: XQUEUE_BRIDGE['GUARDRAIL']['CHECK_INTERVAL']
        # .. setting_default: 60.0
        # .. setting_description: Seconds between the worker's checks of the courses in ``event``.
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


# .. setting_name: XQUEUE_BRIDGE['SWITCH_OFF']['RECENT_DAYS']
# .. setting_default: 30
# .. setting_description: ``xqueue-bridge switch-off --check`` looks at the courses with a submission in
#   the last RECENT_DAYS days: each must be in the event stage before the shim can be switched off.
DEFAULTS["SWITCH_OFF"] = {"RECENT_DAYS": 30}


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
