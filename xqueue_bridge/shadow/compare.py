"""
Comparing two observations: normalize, clean, diff, categorize, ignore.

The compared fields answer two questions apart (docs/decisions/0011): what the learner gets
(``LEARNER_FIELDS``: the problem state after the reply, as the LMS's receiving end of each path leaves it)
and what the record says (``RECORD_FIELDS``: the score each path carries or stores, e.g. the event's
integer ``points_earned``, and the error each path meets, which no learner sees by itself). Each
comparison gets a verdict per column (``learner_status``, ``record_status``) and its categories split by
the column of the fields they explain. Durations are recorded beside them, never compared.
Normalization is fixed (points as floats, the feedback as canonical HTML: parsed and serialized again
with sorted, quoted attributes); cleaning is
configurable (``rules.CLEAN_RULES``). Each differing field gets a category that says which known
difference it is (``points_earned: rounding``, ``error: negative_score``...), so an operator reads the
report by cause rather than by symptom.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence

import attr
import html5lib

from xqueue_bridge.models import DeliveryPath
from xqueue_bridge.shadow import observe as obs
from xqueue_bridge.shadow.observe import Observation
from xqueue_bridge.shadow.rules import CleanRule, IgnoreContext, IgnoreRule
from xqueue_bridge.transports.event import max_points

COMPARED_FIELDS = (
    "points_earned", "learner_points", "points_possible", "correctness", "feedback", "key_consumed", "error",
    "learner",
)
# What the learner gets: the problem's state after the reply (queued or not, correctness, the points it
# grades with, the message as rendered, the key consumed) and, with the standalone sink, whose state it is.
LEARNER_FIELDS = frozenset({"learner_points", "points_possible", "correctness", "feedback", "key_consumed", "learner"})
# What the record says: the score of record (capa's npoints, the event's integer points_earned) and the
# error a path meets (a duplicate's HTTP 500, the Avro change of a fraction), which no learner sees alone.
RECORD_FIELDS = frozenset({"points_earned", "error"})
LEARNER, RECORD = "learner", "record"
# Fields that may hold grader text (learner code, personal data): kept as a digest unless STORE_FULL_VALUES.
SENSITIVE_FIELDS = frozenset({"feedback"})
LEARNER_VISIBLE = LEARNER_FIELDS - {"learner"}

MATCHED, MISMATCHED, IGNORED = "matched", "mismatched", "ignored"


def canonical_html(text: str) -> str:
    """``text`` parsed as an HTML fragment and serialized again the same way whatever its spelling."""
    tree = html5lib.parseFragment(text, treebuilder="etree", namespaceHTMLElements=False)
    return html5lib.serialize(
        tree, tree="etree", alphabetical_attributes=True, quote_attr_values="always",
        omit_optional_tags=False, minimize_boolean_attributes=False,
    )


def normalize(observation: Observation) -> dict:
    """The compared fields of ``observation`` in a fixed form (before any clean rule)."""
    points, shown = observation.points_earned, observation.learner_points
    return {
        "points_earned": None if points is None else float(points),
        "learner_points": None if shown is None else float(shown),
        "points_possible": int(observation.points_possible),
        "correctness": observation.correctness,
        "feedback": canonical_html(observation.feedback),
        "key_consumed": bool(observation.key_consumed),
        "error": observation.error,
        "learner": observation.learner,
    }


def clean(values: dict, rules: Sequence[CleanRule]) -> dict:
    for rule in rules:
        values = rule.clean(values)
    return values


def digest(value) -> str:
    """sha256 of a value's canonical JSON: equal values, equal digests; the value cannot be read back."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# --- what the reply is -------------------------------------------------------------------------------

# How a reply fails edx-submissions' reading (or capa's), as the category of the difference it causes.
KIND_CATEGORY = {
    "not_json": "invalid_reply",
    "not_object": "invalid_reply",
    "no_score": "invalid_reply",
    "missing_fields": "invalid_reply",
    "not_a_number": "non_numeric_score",
    "not_finite": "non_finite_score",
    "negative_score": "negative_score",
    "too_large": "score_too_large",
}


@attr.frozen
class ReplyFacts:
    """What a reply is, for categorizing: ``kind`` is "ok" or why a path cannot use it; its score."""

    kind: str
    score: float | None = None


def reply_facts(reply: str, points_possible: int) -> ReplyFacts:
    try:
        parsed = json.loads(reply)
    except (TypeError, ValueError):
        return ReplyFacts("not_json")
    if not isinstance(parsed, dict):
        return ReplyFacts("not_object")
    score = parsed.get("score")
    if score is None:
        return ReplyFacts("no_score")
    if not isinstance(score, int | float):
        return ReplyFacts("not_a_number")
    if isinstance(score, float) and not math.isfinite(score):
        return ReplyFacts("not_finite")
    try:
        points = round(score * points_possible)
    except (ValueError, OverflowError):
        return ReplyFacts("not_finite")
    if points < 0:
        return ReplyFacts("negative_score", score)
    if points > max_points():
        return ReplyFacts("too_large", score)
    if any(name not in parsed for name in ("correct", "score", "msg")):
        return ReplyFacts("missing_fields", score)
    return ReplyFacts("ok", score)


# --- categories --------------------------------------------------------------------------------------


def _points_category(by_path: dict[str, dict], facts: ReplyFacts, possible: int, errors: set) -> str:
    if obs.AVRO_CHANGED in errors:
        return "points_earned: avro_truncation"
    callback, event = by_path.get(DeliveryPath.CALLBACK), by_path.get(DeliveryPath.EVENT)
    if callback is not None and event is not None and facts.score is not None:
        if facts.kind == "missing_fields":
            return "points_earned: invalid_reply_scored"  # capa shows "Invalid grader reply", 0 points
        raw, rounded = max(float(facts.score), 0.0), float(round(facts.score * possible))
        if math.isclose(callback["points_earned"], raw) and math.isclose(event["points_earned"], rounded):
            return "points_earned: rounding" if possible == 1 else "points_earned: units"
    return "points_earned: differs"


def categorize(fields: frozenset[str], control: dict, candidate: dict, *, control_path: str,
               candidate_path: str, facts: ReplyFacts, context: dict) -> tuple[str, ...]:
    """The known differences that explain ``fields``; a field no known one explains is "<field>: differs"."""
    return tuple(explain(
        fields, control, candidate, control_path=control_path, candidate_path=candidate_path, facts=facts,
        context=context,
    ))


def column_of(explained: frozenset[str]) -> str:
    """A category is learner-visible when a field it explains is; else it is a difference of record."""
    return LEARNER if explained & LEARNER_FIELDS else RECORD


def explain(fields: frozenset[str], control: dict, candidate: dict, *, control_path: str,
            candidate_path: str, facts: ReplyFacts, context: dict) -> dict[str, frozenset[str]]:
    """Each known difference that explains some of ``fields``, with the differing fields it explains."""
    categories: list[str] = []
    covered: set[str] = set()
    explained: dict[str, set[str]] = {}
    errors = {control["error"], candidate["error"]} - {None}
    unscored = control["points_earned"] is None or candidate["points_earned"] is None

    def add(category: str, explains) -> None:
        if category not in categories:
            categories.append(category)
        covered.update(explains)
        explained.setdefault(category, set()).update(set(explains) & fields)

    error_scope = LEARNER_VISIBLE | {"error"} | ({"points_earned"} if unscored else set())
    everything = set(COMPARED_FIELDS)
    if "error" in fields or (fields & error_scope and errors):
        if obs.DELIVERY_FAILED in errors:
            add("error: delivery_failed", everything)
        if context.get("given_up"):
            add("terminal: failure_notice", everything)
        if obs.UNSCORABLE_REPLY in errors:
            add(f"error: {KIND_CATEGORY.get(facts.kind, 'unscorable_reply')}", error_scope)
        if obs.DUPLICATE_REPLY in errors:
            add("error: duplicate_reply", error_scope)
        for code in sorted(errors - {obs.DELIVERY_FAILED, obs.UNSCORABLE_REPLY, obs.DUPLICATE_REPLY}):
            add(f"error: {code.split(': ', 1)[-1]}", error_scope)
    if "points_earned" in fields and "points_earned" not in covered:
        by_path = {control_path: control, candidate_path: candidate}
        add(_points_category(by_path, facts, control["points_possible"], errors), {"points_earned"})
    if "learner" in fields:
        unknown = "unknown learner" in (control["learner"], candidate["learner"])
        add("identity: learner_not_found" if unknown else "identity: different_learner", {"learner"})
    for field in COMPARED_FIELDS:
        if field in fields and field not in covered:
            add(f"{field}: differs", {field})
    return {category: frozenset(explained[category]) for category in categories}


# --- the verdict -------------------------------------------------------------------------------------


@attr.frozen
class Verdict:
    """The comparison of two observations, ready to store."""

    status: str  # over every compared field
    diff: dict  # {field: {"control": value or "sha256:<hex>", "candidate": ...}}
    categories: tuple[str, ...]
    ignored_by: tuple[str, ...]
    learner_status: str  # over LEARNER_FIELDS: what the learner gets
    record_status: str  # over RECORD_FIELDS: what each path carries or stores
    learner_categories: tuple[str, ...]
    record_categories: tuple[str, ...]
    control: dict  # cleaned values
    candidate: dict
    control_digest: str
    candidate_digest: str


def _stored(field: str, value, store_full: bool):
    if field in SENSITIVE_FIELDS and not store_full:
        return "sha256:" + digest(value)
    return value


def compare(control: Observation, candidate: Observation, *, facts: ReplyFacts, context: dict | None = None,
            clean_rules: Sequence[CleanRule] = (), ignore_rules: Sequence[IgnoreRule] = (),
            store_full: bool = False) -> Verdict:
    """Compare the control with the candidate: matched, mismatched (with categories) or ignored."""
    context = context or {}
    left, right = clean(normalize(control), clean_rules), clean(normalize(candidate), clean_rules)
    if left["learner"] is None or right["learner"] is None:
        # A path that stopped before its receiving end looked no learner up: nothing to compare there.
        left, right = {**left, "learner": None}, {**right, "learner": None}
    fields = frozenset(name for name in COMPARED_FIELDS if left[name] != right[name])
    diff = {
        name: {"control": _stored(name, left[name], store_full), "candidate": _stored(name, right[name], store_full)}
        for name in COMPARED_FIELDS if name in fields
    }
    explained: dict[str, frozenset[str]] = {}
    ignored_by: list[str] = []
    accepted: set[str] = set()
    if fields:
        explained = explain(
            fields, left, right, control_path=control.path, candidate_path=candidate.path, facts=facts,
            context=context,
        )
        ignore_context = IgnoreContext(left, right, fields, tuple(explained))
        for rule in ignore_rules:
            taken = rule.accepts(ignore_context)
            if taken:
                accepted |= taken
                ignored_by.append(rule.name)

    def verdict_over(column: frozenset[str]) -> str:
        differing = fields & column
        if not differing:
            return MATCHED
        return IGNORED if accepted >= differing else MISMATCHED

    by_column = {LEARNER: [], RECORD: []}
    for category, explains in explained.items():
        by_column[column_of(explains)].append(category)
    return Verdict(
        status=verdict_over(frozenset(COMPARED_FIELDS)), diff=diff, categories=tuple(explained),
        ignored_by=tuple(ignored_by), learner_status=verdict_over(LEARNER_FIELDS),
        record_status=verdict_over(RECORD_FIELDS), learner_categories=tuple(by_column[LEARNER]),
        record_categories=tuple(by_column[RECORD]), control=left, candidate=right, control_digest=digest(left),
        candidate_digest=digest(right),
    )
