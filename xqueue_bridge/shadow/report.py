"""
What the operator reads: the shadow report, readiness, and the purge of old comparisons.

``shadow_report`` summarizes decided comparisons per course, org or queue and stage (a course compared in
both shadow stages has a row for each: control and candidate swap); ``readiness`` says, per course, whether
it may move to the next stage and why (not); ``purge`` applies the retention period. Rates:

* match rate = matched / decided, mismatch rate = mismatched / decided, where decided = matched +
  mismatched + ignored (ignored comparisons differ only in accepted ways);
* error rate = errored / compared, where compared = decided + errored (the comparator or the candidate
  failed: no evidence either way).

The noise baseline is counted apart and never in readiness.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import attr
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from xqueue_bridge.conf import get_setting
from xqueue_bridge.models import Stage
from xqueue_bridge.shadow import rules
from xqueue_bridge.shadow.experiment import org_of
from xqueue_bridge.shadow.models import Comparison, GuardrailMove
from xqueue_bridge.stage import rollout

NEXT_STAGE = {
    Stage.CALLBACK.value: Stage.SHADOW_CALLBACK.value,
    Stage.SHADOW_CALLBACK.value: Stage.SHADOW_EVENT.value,
    Stage.SHADOW_EVENT.value: Stage.EVENT.value,
    Stage.EVENT.value: None,
}
GROUPINGS = {"course": "course_id", "org": "org", "queue": "queue_name"}
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``24h``, ``7d``, ``30m``, ``2w`` ago, or an ISO date or date-time (UTC unless it says otherwise)."""
    now = now or timezone.now()
    match = _RELATIVE.match(text)
    if match:
        return now - timedelta(**{_UNITS[match[2]]: float(match[1])})
    moment = parse_datetime(text.strip())
    if moment is None:
        day = parse_date(text.strip())
        if day is None:
            raise ValueError(
                f"--since {text!r}: expected a duration such as 24h, 7d, 30m or an ISO date such as 2026-11-24"
            )
        moment = datetime(day.year, day.month, day.day)
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of ``values`` (None for none)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def active_rules() -> dict:
    """The clean and ignore rules in force, with their descriptions (printed by every report)."""
    return {
        "clean_rules": [{"name": r.name, "description": r.description} for r in rules.active_clean_rules()],
        "ignore_rules": [{"name": r.name, "description": r.description} for r in rules.active_ignore_rules()],
    }


# --- the shadow report -------------------------------------------------------------------------------

_FIELDS = (
    "id", "submission_id", "course_id", "org", "queue_name", "stage", "control_path", "candidate_path",
    "status", "noise", "diff", "categories", "ignored_by", "control_duration", "candidate_duration",
    "created_at", "clean_rules",
)


def _durations(rows: list[dict], side: str) -> dict:
    values = [row[f"{side}_duration"] for row in rows if row[f"{side}_duration"] is not None]
    return {
        "path": rows[0][f"{side}_path"] if rows else None,
        "count": len(values),
        "p50_ms": _ms(percentile(values, 0.50)),
        "p99_ms": _ms(percentile(values, 0.99)),
    }


def _group(key: str, stage: str, rows: list[dict], noise: list[dict], pending: int, examples: int) -> dict:
    status = Counter(row["status"] for row in rows)
    decided = status["matched"] + status["mismatched"] + status["ignored"]
    compared = decided + status["errored"]
    fields: Counter = Counter()
    categories: dict[str, dict] = {}
    ignored_by: Counter = Counter()
    for row in rows:
        if row["status"] == Comparison.Status.MISMATCHED:
            fields.update(row["diff"].keys())
            for category in row["categories"]:
                entry = categories.setdefault(category, {"category": category, "count": 0, "examples": []})
                entry["count"] += 1
                if len(entry["examples"]) < examples:
                    entry["examples"].append(
                        {"comparison": row["id"], "submission": row["submission_id"], "diff": row["diff"]}
                    )
        elif row["status"] == Comparison.Status.IGNORED:
            ignored_by.update(row["ignored_by"])
    noise_status = Counter(row["status"] for row in noise)
    noise_decided = noise_status["matched"] + noise_status["mismatched"] + noise_status["ignored"]
    first = min((row["created_at"] for row in rows), default=None)
    last = max((row["created_at"] for row in rows), default=None)
    sample = rows[0] if rows else noise[0]
    return {
        "group": key,
        "stage": stage,
        "control_path": sample["control_path"],
        "candidate_path": sample["candidate_path"] if rows else None,
        "comparisons": compared,
        "pending": pending,
        "matched": status["matched"],
        "mismatched": status["mismatched"],
        "ignored": status["ignored"],
        "errored": status["errored"],
        "match_rate": _rate(status["matched"], decided),
        "mismatch_rate": _rate(status["mismatched"], decided),
        "error_rate": _rate(status["errored"], compared),
        "mismatched_fields": dict(fields.most_common()),
        "categories": sorted(categories.values(), key=lambda entry: (-entry["count"], entry["category"])),
        "ignored_by": dict(ignored_by.most_common()),
        "durations": {"control": _durations(rows, "control"), "candidate": _durations(rows, "candidate")},
        "noise": {
            "comparisons": noise_decided + noise_status["errored"],
            "mismatched": noise_status["mismatched"],
            "mismatch_rate": _rate(noise_status["mismatched"], noise_decided),
        },
        "first_compared": first.isoformat() if first else None,
        "last_compared": last.isoformat() if last else None,
    }


def shadow_report(*, since: datetime | None = None, by: str = "course", course: str | None = None,
                  org: str | None = None, queue: str | None = None, examples: int = 3) -> dict:
    """Comparisons since ``since`` per ``by`` (course, org or queue) and stage; see the module docstring."""
    if by not in GROUPINGS:
        raise ValueError(f"by={by!r}: expected one of {', '.join(GROUPINGS)}")
    comparisons = Comparison.objects.all()
    if since is not None:
        comparisons = comparisons.filter(created_at__gte=since)
    for name, value in (("course_id", course), ("org", org), ("queue_name", queue)):
        if value:
            comparisons = comparisons.filter(**{name: value})
    key = GROUPINGS[by]
    decided: dict[tuple, list] = defaultdict(list)
    noise: dict[tuple, list] = defaultdict(list)
    pending: Counter = Counter()
    rules_seen: set[str] = set()
    for row in comparisons.order_by("id").values(*_FIELDS).iterator():
        group = (row[key], row["stage"])
        if row["status"] == Comparison.Status.PENDING:
            pending[group] += 1
            continue
        rules_seen.update(row["clean_rules"])
        (noise if row["noise"] else decided)[group].append(row)
    groups = [
        _group(group[0], group[1], decided.get(group, []), noise.get(group, []), pending[group], examples)
        for group in sorted(set(decided) | set(noise))
    ]
    groups += [
        {"group": group[0], "stage": group[1], "comparisons": 0, "pending": count}
        for group, count in sorted(pending.items()) if group not in decided and group not in noise
    ]
    shadow = get_setting("SHADOW")
    return {
        "generated_at": timezone.now().isoformat(),
        "since": since.isoformat() if since else None,
        "by": by,
        "filters": {"course": course, "org": org, "queue": queue},
        **active_rules(),
        # Clean rules some comparison was made under that are no longer in force (the numbers mix both).
        "former_clean_rules": sorted(rules_seen - set(shadow["CLEAN_RULES"])),
        "sample_rate": shadow["SAMPLE_RATE"],
        "course_sample_rates": shadow["COURSE_SAMPLE_RATES"],
        "noise_baseline": shadow["NOISE_BASELINE"],
        "store_full_values": shadow["STORE_FULL_VALUES"],
        "groups": groups,
    }


# --- readiness ---------------------------------------------------------------------------------------


@attr.frozen
class Thresholds:
    min_comparisons: int
    min_hours: float
    max_mismatch_rate: float
    max_error_rate: float

    @classmethod
    def from_settings(cls, **overrides) -> Thresholds:
        setting = get_setting("READINESS")
        values = {
            "min_comparisons": int(setting["MIN_COMPARISONS"]),
            "min_hours": float(setting["MIN_HOURS"]),
            "max_mismatch_rate": float(setting["MAX_MISMATCH_RATE"]),
            "max_error_rate": float(setting["MAX_ERROR_RATE"]),
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
    mismatch_rate: float | None
    error_rate: float | None
    reasons: tuple[str, ...]


def _percent(rate: float) -> str:
    return f"{100 * rate:.1f}%"


def _course_figures(course_id: str, stage: str, start: datetime | None) -> dict:
    comparisons = Comparison.objects.filter(course_id=course_id, stage=stage, noise=False).exclude(
        status=Comparison.Status.PENDING
    )
    if start is not None:
        comparisons = comparisons.filter(created_at__gte=start)
    rows = list(comparisons.values("status", "categories", "created_at"))
    status = Counter(row["status"] for row in rows)
    decided = status["matched"] + status["mismatched"] + status["ignored"]
    top = Counter(
        category for row in rows if row["status"] == Comparison.Status.MISMATCHED for category in row["categories"]
    ).most_common(2)
    return {
        "compared": decided + status["errored"],
        "first": min((row["created_at"] for row in rows), default=None),
        "mismatch_rate": status["mismatched"] / decided if decided else None,
        "error_rate": status["errored"] / (decided + status["errored"]) if rows else None,
        "errored": status["errored"],
        "top": top,
    }


def course_readiness(course_id: str, stage: str, thresholds: Thresholds, *, since: datetime | None = None,
                     now: datetime | None = None) -> CourseReadiness:
    """Readiness of one course in ``stage``, from its comparisons in that stage since its last guardrail move."""
    now = now or timezone.now()
    next_stage = NEXT_STAGE[stage]
    if stage == Stage.CALLBACK:
        return CourseReadiness(course_id, stage, next_stage, True, 0, None, None, None, (
            "shadow_callback needs no comparisons to start: the event path is only compared there",
        ))
    if stage == Stage.EVENT:
        return CourseReadiness(course_id, stage, None, False, 0, None, None, None, (
            "event is the last stage; the shim can be switched off once every course is here",
        ))
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


# --- retention ---------------------------------------------------------------------------------------


def purge(*, days: float | None = None, now: datetime | None = None, dry_run: bool = False,
          batch: int = 1000) -> int:
    """Delete comparisons older than ``days`` (default SHADOW["RETENTION_DAYS"]); returns how many."""
    days = float(get_setting("SHADOW")["RETENTION_DAYS"] if days is None else days)
    if days < 0:
        raise ValueError(f"days must be 0 or more, not {days:g}")
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = Comparison.objects.filter(created_at__lt=cutoff)
    if dry_run:
        return old.count()
    deleted = 0
    while ids := list(old.order_by("id").values_list("id", flat=True)[:batch]):
        deleted += Comparison.objects.filter(id__in=ids).delete()[0]
    return deleted
