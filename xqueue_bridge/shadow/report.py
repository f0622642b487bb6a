"""
What the operator reads: the shadow report and the purge of old comparisons (readiness: ``readiness.py``).

``shadow_report`` summarizes decided comparisons per course, org or queue and stage (a course compared in
both shadow stages has a row for each: control and candidate swap), with what the learner gets and what
the record says counted apart; ``purge`` applies the retention period. Rates:

* match rate = matched / decided, mismatch rate = mismatched / decided, where decided = matched +
  mismatched + ignored (ignored comparisons differ only in accepted ways);
* error rate = errored / compared, where compared = decided + errored (the comparator or the candidate
  failed: no evidence either way);
* shed rate = shed / (compared + shed): sampled results not compared because the shadow thread was more
  than SHADOW["MAX_LAG"] behind (docs/decisions/0013); they are in no other rate.

The noise baseline is counted apart and never in readiness.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from xqueue_bridge.conf import get_setting
from xqueue_bridge.shadow import rules
from xqueue_bridge.shadow.models import Comparison

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
    "created_at", "clean_rules", "learner_status", "record_status", "learner_categories", "record_categories",
)


def column_status(row: dict, column: str) -> str:
    """A decided row's verdict in ``column`` ("learner" or "record"); rows from before the split count whole."""
    return row[f"{column}_status"] or (row["status"] if column == "learner" else "matched")


def _column(rows: list[dict], column: str, decided: int) -> dict:
    """Counts and categories of one column (what the learner gets, or what the record says)."""
    decided_rows = [row for row in rows if row["status"] in Comparison.DECIDED]
    status = Counter(column_status(row, column) for row in decided_rows)
    categories: Counter = Counter(
        category for row in decided_rows if column_status(row, column) == Comparison.Status.MISMATCHED
        for category in (row[f"{column}_categories"] or (row["categories"] if column == "learner" else []))
    )
    return {
        "matched": status["matched"],
        "mismatched": status["mismatched"],
        "ignored": status["ignored"],
        "mismatch_rate": _rate(status["mismatched"], decided),
        "categories": dict(sorted(categories.items(), key=lambda item: (-item[1], item[0]))),
    }


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
    first = min((row["created_at"] for row in rows if row["status"] != Comparison.Status.SHED), default=None)
    last = max((row["created_at"] for row in rows if row["status"] != Comparison.Status.SHED), default=None)
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
        # Sampled but not compared, the shadow thread over MAX_LAG behind: in no rate (docs/decisions/0013).
        "shed": status["shed"],
        "shed_rate": _rate(status["shed"], compared + status["shed"]),
        "match_rate": _rate(status["matched"], decided),
        "mismatch_rate": _rate(status["mismatched"], decided),
        "error_rate": _rate(status["errored"], compared),
        "learner_visible": _column(rows, "learner", decided),
        "record": _column(rows, "record", decided),
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
        "max_lag": shadow["MAX_LAG"],
        "noise_baseline": shadow["NOISE_BASELINE"],
        "store_full_values": shadow["STORE_FULL_VALUES"],
        "groups": groups,
    }


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
