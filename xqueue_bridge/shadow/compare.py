"""
Comparing two observations: normalize, clean, diff, categorize, ignore.

The compared fields are the learner-visible outcome and the score of record (``COMPARED_FIELDS``);
durations are recorded beside them, never compared. Normalization is fixed (points as floats, the
feedback as canonical HTML: parsed and serialized again with sorted, quoted attributes); cleaning is
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
    "points_earned", "points_possible", "correctness", "feedback", "key_consumed", "error", "learner",
)
# Fields that may hold grader text (learner code, personal data): kept as a digest unless STORE_FULL_VALUES.
SENSITIVE_FIELDS = frozenset({"feedback"})
LEARNER_VISIBLE = frozenset({"correctness", "feedback", "key_consumed", "points_possible"})

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
    points = observation.points_earned
    return {
        "points_earned": None if points is None else float(points),
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
    categories: list[str] = []
    covered: set[str] = set()
    errors = {control["error"], candidate["error"]} - {None}
    unscored = control["points_earned"] is None or candidate["points_earned"] is None

    def add(category: str, explains) -> None:
        if category not in categories:
            categories.append(category)
        covered.update(explains)

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
    return tuple(categories)


# --- the verdict -------------------------------------------------------------------------------------


@attr.frozen
class Verdict:
    """The comparison of two observations, ready to store."""

    status: str
    diff: dict  # {field: {"control": value or "sha256:<hex>", "candidate": ...}}
    categories: tuple[str, ...]
    ignored_by: tuple[str, ...]
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
    categories: tuple[str, ...] = ()
    ignored_by: list[str] = []
    status = MATCHED
    if fields:
        categories = categorize(
            fields, left, right, control_path=control.path, candidate_path=candidate.path, facts=facts,
            context=context,
        )
        ignore_context = IgnoreContext(left, right, fields, categories)
        accepted: set[str] = set()
        for rule in ignore_rules:
            taken = rule.accepts(ignore_context)
            if taken:
                accepted |= taken
                ignored_by.append(rule.name)
        status = IGNORED if accepted >= fields else MISMATCHED
    return Verdict(
        status=status, diff=diff, categories=categories, ignored_by=tuple(ignored_by), control=left,
        candidate=right, control_digest=digest(left), candidate_digest=digest(right),
    )
