"""
Readiness: whether a course may move to its next stage, and why (not).

A course in a shadow stage is ready after, in that stage and since its last guardrail move, at least
READINESS["MIN_COMPARISONS"] comparisons, the first at least MIN_HOURS ago, an error rate at or below
MAX_ERROR_RATE and a **learner-visible** mismatch rate at or below MAX_MISMATCH_RATE: what the learner
gets is the question (docs/decisions/0011). Differences of record (the event's integer ``points_earned``,
a path's error that changes nothing the learner sees) are counted beside it with their categories, and
block only with READINESS["BLOCK_ON_RECORD_DIFFERENCES"], held to the same maximum rate. Results shed
under load (SHADOW["MAX_LAG"]) are no evidence either way: a note counts them, no figure does.

A course no submission has named is "no data", never ready; a callback course with submissions may start
shadowing; an event course is at the last stage. ``register`` hands ``check`` to the stage guard
(``xqueue_bridge.stage.guard``), so rollout moves obey the same answer without the core importing shadow.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import attr
from django.db.models import Max
from django.utils import timezone

from xqueue_bridge.conf import get_setting
from xqueue_bridge.models import Stage, Submission
from xqueue_bridge.shadow.models import Comparison, GuardrailMove
from xqueue_bridge.shadow.report import column_status
from xqueue_bridge.shadow.sampling import org_of
from xqueue_bridge.stage import guard, rollout

NEXT_STAGE = {
    Stage.CALLBACK.value: Stage.SHADOW_CALLBACK.value,
    Stage.SHADOW_CALLBACK.value: Stage.SHADOW_EVENT.value,
    Stage.SHADOW_EVENT.value: Stage.EVENT.value,
    Stage.EVENT.value: None,
}
READY, NOT_READY, NO_DATA, LAST_STAGE = "ready", "not ready", "no data", "last stage"
# Record categories that mean "the event carries a rounded integer": one line tells the operator so.
ROUNDED = ("points_earned: rounding", "points_earned: units", "points_earned: avro_truncation")


@attr.frozen
class Thresholds:
    min_comparisons: int
    min_hours: float
    max_mismatch_rate: float
    max_error_rate: float
    block_on_record_differences: bool = False

    @classmethod
    def from_settings(cls, **overrides) -> Thresholds:
        setting = get_setting("READINESS")
        values = {
            "min_comparisons": int(setting["MIN_COMPARISONS"]),
            "min_hours": float(setting["MIN_HOURS"]),
            "max_mismatch_rate": float(setting["MAX_MISMATCH_RATE"]),
            "max_error_rate": float(setting["MAX_ERROR_RATE"]),
            "block_on_record_differences": bool(setting["BLOCK_ON_RECORD_DIFFERENCES"]),
        }
        values.update({name: value for name, value in overrides.items() if value is not None})
        return cls(**values)


@attr.frozen
class CourseReadiness:
    """Whether a course may move to its next stage, with the figures and the reasons."""

    course_id: str
    stage: str
    next_stage: str | None
    ready: bool
    comparisons: int
    hours: float | None
    mismatch_rate: float | None  # learner-visible mismatches / decided
    error_rate: float | None
    reasons: tuple[str, ...]
    state: str = NOT_READY  # ready | not ready | no data | last stage
    record_differences: int = 0  # decided comparisons whose record differs (not ignored)
    record_difference_rate: float | None = None
    record_categories: dict = attr.field(factory=dict)  # {category: count}
    notes: tuple[str, ...] = ()  # what the operator should know that blocks nothing
    shed: int = 0  # sampled results shed under load (SHADOW["MAX_LAG"]): in no count and no rate


def _percent(rate: float) -> str:
    return f"{100 * rate:.1f}%"


def _course_figures(course_id: str, stage: str, start: datetime | None) -> dict:
    comparisons = Comparison.objects.filter(course_id=course_id, stage=stage, noise=False).exclude(
        status=Comparison.Status.PENDING
    )
    if start is not None:
        comparisons = comparisons.filter(created_at__gte=start)
    shed = comparisons.filter(status=Comparison.Status.SHED).count()
    rows = list(comparisons.exclude(status=Comparison.Status.SHED).values(
        "status", "categories", "created_at", "learner_status", "record_status", "learner_categories",
        "record_categories",
    ))
    decided_rows = [row for row in rows if row["status"] in Comparison.DECIDED]
    decided, errored = len(decided_rows), len(rows) - len(decided_rows)
    learner = [row for row in decided_rows if column_status(row, "learner") == Comparison.Status.MISMATCHED]
    record = [row for row in decided_rows if column_status(row, "record") == Comparison.Status.MISMATCHED]
    top = Counter(
        category for row in learner for category in (row["learner_categories"] or row["categories"])
    ).most_common(2)
    record_categories = Counter(category for row in record for category in row["record_categories"])
    return {
        "compared": decided + errored,
        "first": min((row["created_at"] for row in rows), default=None),
        "mismatch_rate": len(learner) / decided if decided else None,
        "record_rate": len(record) / decided if decided else None,
        "record": len(record),
        "record_categories": dict(record_categories.most_common()),
        "error_rate": errored / (decided + errored) if rows else None,
        "errored": errored,
        "shed": shed,
        "top": top,
    }


def shed_line(shed: int, compared: int) -> str:
    """What shedding under load means for the figures (docs/decisions/0013)."""
    return (
        f"{shed} of {shed + compared} sampled results shed under load (not compared: the shadow thread was "
        f"over SHADOW['MAX_LAG'] behind), counted in no rate; to compare them all, lower the sample rate or "
        f"compare in `xqueue-bridge worker`"
    )


def _record_lines(figures: dict, thresholds: Thresholds) -> tuple[list[str], list[str]]:
    """(reasons, notes) about differences of record."""
    if not figures["record"]:
        return [], []
    listed = ", ".join(f"{category} x{count}" for category, count in figures["record_categories"].items())
    rate = figures["record_rate"] or 0.0
    notes = []
    if any(category in figures["record_categories"] for category in ROUNDED):
        notes.append(
            "record: the event carries points_earned as a rounded integer (round(score x points_possible)), "
            "as edx-submissions stores it; the LMS grades the learner from the reply itself, so learners see "
            "the same result"
        )
    if thresholds.block_on_record_differences and rate > thresholds.max_mismatch_rate:
        return [
            f"record differences {_percent(rate)} are above {_percent(thresholds.max_mismatch_rate)} "
            f"(BLOCK_ON_RECORD_DIFFERENCES; {listed})"
        ], notes
    notes.append(f"record differences (not blocking): {figures['record']} ({listed})")
    return [], notes


def course_readiness(course_id: str, stage: str, thresholds: Thresholds, *, since: datetime | None = None,
                     now: datetime | None = None) -> CourseReadiness:
    """Readiness of one course in ``stage``, from its comparisons in that stage since its last guardrail move."""
    now = now or timezone.now()
    next_stage = NEXT_STAGE[stage]
    if not Submission.objects.filter(course_id=course_id).exists():
        return CourseReadiness(course_id, stage, next_stage, False, 0, None, None, None, (
            "no data: no submission of this course has reached the bridge (is the course key right?)",
        ), state=NO_DATA)
    if stage == Stage.CALLBACK:
        return CourseReadiness(course_id, stage, next_stage, True, 0, None, None, None, (
            "shadow_callback needs no comparisons to start: the event path is only compared there",
        ), state=READY)
    if stage == Stage.EVENT:
        return CourseReadiness(course_id, stage, None, False, 0, None, None, None, (
            "event is the last stage; `xqueue-bridge switch-off --check` says when the shim can go",
        ), state=LAST_STAGE)
    last_move = GuardrailMove.objects.filter(course_id=course_id).aggregate(last=Max("created_at"))["last"]
    start = max(filter(None, (since, last_move)), default=None)
    figures = _course_figures(course_id, stage, start)
    hours = (now - figures["first"]).total_seconds() / 3600 if figures["first"] else None
    reasons = []
    if figures["compared"] < thresholds.min_comparisons:
        reasons.append(f"{figures['compared']} comparisons in {stage}, at least {thresholds.min_comparisons} needed")
    if hours is None or hours < thresholds.min_hours:
        span = "no comparisons yet" if hours is None else f"compared for {hours:.1f} h"
        reasons.append(f"{span}, at least {thresholds.min_hours:g} h needed")
    rate = figures["mismatch_rate"]
    if rate is not None and rate > thresholds.max_mismatch_rate:
        top = ", ".join(f"{category} x{count}" for category, count in figures["top"])
        reasons.append(
            f"mismatch rate {_percent(rate)} is above {_percent(thresholds.max_mismatch_rate)} (most: {top})"
        )
    if figures["error_rate"] is not None and figures["error_rate"] > thresholds.max_error_rate:
        reasons.append(
            f"error rate {_percent(figures['error_rate'])} ({figures['errored']} errored) is above "
            f"{_percent(thresholds.max_error_rate)}"
        )
    record_reasons, notes = _record_lines(figures, thresholds)
    reasons += record_reasons
    if figures["shed"]:
        notes.append(shed_line(figures["shed"], figures["compared"]))
    if last_move is not None:
        reasons.append(f"counted from the guardrail's move back on {last_move:%Y-%m-%d %H:%M} UTC")
    ready = not [reason for reason in reasons if not reason.startswith("counted from")]
    if ready:
        reasons.insert(0, (
            f"{figures['compared']} comparisons over {hours:.1f} h, mismatch rate {_percent(rate or 0.0)}, "
            f"error rate {_percent(figures['error_rate'] or 0.0)}"
        ))
    return CourseReadiness(
        course_id, stage, next_stage, ready, figures["compared"], None if hours is None else round(hours, 2),
        None if rate is None else round(rate, 4),
        None if figures["error_rate"] is None else round(figures["error_rate"], 4), tuple(reasons),
        state=READY if ready else NOT_READY, record_differences=figures["record"],
        record_difference_rate=None if figures["record_rate"] is None else round(figures["record_rate"], 4),
        record_categories=figures["record_categories"], notes=tuple(notes), shed=figures["shed"],
    )


def readiness(*, courses: list[str] | None = None, org: str | None = None, since: datetime | None = None,
              thresholds: Thresholds | None = None, now: datetime | None = None) -> list[CourseReadiness]:
    """Readiness of ``courses`` (default: every known course and every compared one), sorted by course."""
    thresholds = thresholds or Thresholds.from_settings()
    if courses is None:
        known = set(rollout.known_courses())
        known.update(Comparison.objects.order_by().values_list("course_id", flat=True).distinct())
        courses = sorted(known)
    if org:
        courses = [course for course in courses if org_of(course) == org]
    return [
        course_readiness(course, rollout.stage_of(course).stage, thresholds, since=since, now=now)
        for course in courses
    ]


def check(course_id: str, stage: str) -> CourseReadiness:
    """The readiness the stage guard asks for: ``course_id`` in ``stage``, with the configured thresholds."""
    return course_readiness(course_id, stage, Thresholds.from_settings())


def register() -> None:
    """Make this readiness the one rollout moves are guarded by (called by ``ShadowConfig.ready``)."""
    guard.register_readiness(check)
