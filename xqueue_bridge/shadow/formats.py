"""Text renderings of the shadow report and of readiness: a table for people, CSV for spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from xqueue_bridge.shadow.readiness import CourseReadiness, Thresholds, shed_line


def _pct(rate) -> str:
    return "-" if rate is None else f"{100 * rate:.1f}%"


def _num(value) -> str:
    return "-" if value is None else f"{value:g}"


def _value(value) -> str:
    if isinstance(value, str) and value.startswith("sha256:"):
        return f"digest {value[7:19]}"
    return "none" if value is None else str(value)


def _diff_text(diff: dict) -> str:
    return "; ".join(
        f"{field} control {_value(pair['control'])}, candidate {_value(pair['candidate'])}"
        for field, pair in diff.items()
    )


def _rules_lines(report: dict) -> list[str]:
    clean = ", ".join(rule["name"] for rule in report["clean_rules"]) or "(none)"
    ignore = ", ".join(rule["name"] for rule in report["ignore_rules"]) or "(none)"
    lines = [f"Clean rules: {clean}", f"Ignore rules: {ignore}"]
    if report["former_clean_rules"]:
        lines.append(f"Some comparisons were cleaned by rules no longer in force: "
                     f"{', '.join(report['former_clean_rules'])}")
    stored = "full values" if report["store_full_values"] else "diff and digests only"
    noise = "on" if report["noise_baseline"] else "off"
    bound = "none" if report["max_lag"] is None else f"{report['max_lag']:g} s"
    lines.append(f"Sample rate {report['sample_rate']:g} (course rates: {len(report['course_sample_rates'])}); "
                 f"noise baseline {noise}; stored: {stored}; shed past MAX_LAG {bound}")
    return lines


def report_table(report: dict) -> str:
    since = report["since"] or "the oldest kept comparison"
    lines = [f"Shadow comparisons since {since}, by {report['by']}", *_rules_lines(report), ""]
    if not report["groups"]:
        lines.append("no comparisons")
    for group in report["groups"]:
        if not group["comparisons"] and "matched" not in group:
            lines += [f"{group['group']}  [{group['stage']}]", f"  {group['pending']} pending", ""]
            continue
        lines.append(
            f"{group['group']}  [{group['stage']}: control {group['control_path']}, "
            f"candidate {group['candidate_path'] or '-'}]"
        )
        lines.append(
            f"  comparisons {group['comparisons']} (pending {group['pending']}): matched {group['matched']}, "
            f"mismatched {group['mismatched']}, ignored {group['ignored']}, errored {group['errored']}; "
            f"match rate {_pct(group['match_rate'])}, mismatch rate {_pct(group['mismatch_rate'])}"
        )
        if group["shed"]:
            lines.append(f"  {shed_line(group['shed'], group['comparisons'])}")
        learner, record = group["learner_visible"], group["record"]
        lines.append(
            f"  what the learner gets: mismatched {learner['mismatched']} ({_pct(learner['mismatch_rate'])})"
            + (f": {_counts(learner['categories'])}" if learner["categories"] else "")
        )
        lines.append(
            f"  what the record says: differs {record['mismatched']} ({_pct(record['mismatch_rate'])})"
            + (f": {_counts(record['categories'])}" if record["categories"] else "")
        )
        control, candidate = group["durations"]["control"], group["durations"]["candidate"]
        lines.append(
            f"  duration ms: control {control['path']} p50 {_num(control['p50_ms'])} p99 {_num(control['p99_ms'])}"
            f"; candidate {candidate['path'] or '-'} p50 {_num(candidate['p50_ms'])} "
            f"p99 {_num(candidate['p99_ms'])}"
        )
        if group["mismatched_fields"]:
            fields = ", ".join(f"{field} {count}" for field, count in group["mismatched_fields"].items())
            lines.append(f"  mismatches by field: {fields}")
            lines.append("  mismatches by category:")
            for entry in group["categories"]:
                lines.append(f"    {entry['category']}  {entry['count']}")
                for example in entry["examples"]:
                    lines.append(f"      e.g. submission {example['submission']}: {_diff_text(example['diff'])}")
        if group["ignored_by"]:
            lines.append("  ignored by: " + ", ".join(f"{name} {n}" for name, n in group["ignored_by"].items()))
        noise = group["noise"]
        if noise["comparisons"]:
            lines.append(
                f"  noise baseline: {noise['comparisons']} comparisons, {noise['mismatched']} mismatched "
                f"({_pct(noise['mismatch_rate'])})"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _counts(counts: dict) -> str:
    return ", ".join(f"{category} x{count}" for category, count in counts.items())


REPORT_COLUMNS = [
    "group", "stage", "control_path", "candidate_path", "comparisons", "pending", "matched", "mismatched",
    "ignored", "errored", "shed", "shed_rate", "match_rate", "mismatch_rate", "error_rate", "learner_mismatched",
    "learner_mismatch_rate", "learner_categories", "record_differences", "record_difference_rate",
    "record_categories", "control_p50_ms", "control_p99_ms",
    "candidate_p50_ms", "candidate_p99_ms", "mismatched_fields", "categories", "ignored_by",
    "noise_comparisons", "noise_mismatched",
]


def report_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for group in report["groups"]:
        row = dict(group)
        durations = group.get("durations", {})
        for side in ("control", "candidate"):
            for q in ("p50_ms", "p99_ms"):
                row[f"{side}_{q}"] = durations.get(side, {}).get(q)
        row["mismatched_fields"] = "; ".join(f"{k}={v}" for k, v in group.get("mismatched_fields", {}).items())
        row["categories"] = "; ".join(f"{e['category']}={e['count']}" for e in group.get("categories", []))
        row["ignored_by"] = "; ".join(f"{k}={v}" for k, v in group.get("ignored_by", {}).items())
        for column, prefix in (("learner_visible", "learner"), ("record", "record")):
            part = group.get(column, {})
            name = "learner_mismatched" if prefix == "learner" else "record_differences"
            row[name] = part.get("mismatched", 0)
            row[f"{prefix}_{'mismatch_rate' if prefix == 'learner' else 'difference_rate'}"] = part.get("mismatch_rate")
            row[f"{prefix}_categories"] = "; ".join(f"{k}={v}" for k, v in part.get("categories", {}).items())
        row["noise_comparisons"] = group.get("noise", {}).get("comparisons", 0)
        row["noise_mismatched"] = group.get("noise", {}).get("mismatched", 0)
        writer.writerow(row)
    return out.getvalue()


def thresholds_line(thresholds: Thresholds) -> str:
    record = "also" if thresholds.block_on_record_differences else "not"
    return (
        f"A shadow course may move on after at least {thresholds.min_comparisons} comparisons over at least "
        f"{thresholds.min_hours:g} h, with a learner-visible mismatch rate at or below "
        f"{_pct(thresholds.max_mismatch_rate)} and an error rate at or below {_pct(thresholds.max_error_rate)}; "
        f"differences of record are {record} held to it (setting READINESS)."
    )


READINESS_COLUMNS = [
    "course", "stage", "next_stage", "ready", "comparisons", "hours", "mismatch_rate", "error_rate",
    "record_differences", "why", "record_categories", "notes", "shed",
]


def _readiness_row(item: CourseReadiness) -> dict:
    return {
        "course": item.course_id, "stage": item.stage, "next_stage": item.next_stage or "-",
        "ready": item.state if item.state in ("no data", "last stage") else "yes" if item.ready else "no",
        "comparisons": item.comparisons, "hours": item.hours,
        "mismatch_rate": item.mismatch_rate, "error_rate": item.error_rate,
        "record_differences": item.record_differences, "shed": item.shed, "why": "; ".join(item.reasons),
        "record_categories": _counts(item.record_categories), "notes": "; ".join(item.notes),
    }


def readiness_table(items: Iterable[CourseReadiness], thresholds: Thresholds) -> str:
    items = list(items)
    rows = [_readiness_row(item) for item in items]
    lines = [thresholds_line(thresholds), ""]
    if not rows:
        return "\n".join([*lines, "no courses"]) + "\n"
    shown = [
        {**row, "hours": _num(row["hours"]), "mismatch_rate": _pct(row["mismatch_rate"]),
         "error_rate": _pct(row["error_rate"])}
        for row in rows
    ]
    columns = READINESS_COLUMNS[:READINESS_COLUMNS.index("why")]
    widths = {c: max(len(c), *(len(str(row[c])) for row in shown)) for c in columns}
    lines.append("  ".join(c.ljust(widths[c]) for c in columns))
    for row, item in zip(shown, items, strict=True):
        lines.append("  ".join(str(row[c]).ljust(widths[c]) for c in columns))
        lines.append(f"    {row['why']}")
        lines += [f"    {note}" for note in item.notes]
    return "\n".join(lines) + "\n"


def readiness_csv(items: Iterable[CourseReadiness]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=READINESS_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for item in items:
        writer.writerow(_readiness_row(item))
    return out.getvalue()
