"""
Clean rules and ignore rules of the shadow comparison: named, documented here, chosen by settings.

* A **clean rule** normalizes both observations before they are compared (SHADOW["CLEAN_RULES"]): a
  difference it removes is not a difference at all (whitespace in the feedback, float noise in points).
* An **ignore rule** accepts a known difference (SHADOW["IGNORE_RULES"]): the comparison is still
  recorded with its differing fields, but as ``ignored`` when every differing field is accepted by an
  active rule. Ignore rules are for differences an operator has looked at and accepted for a while; they
  should all be removed before the shim is switched off, when the event path is the only one.

Both lists are printed by ``xqueue-bridge shadow-report`` and stored on each comparison. A project adds
its own rules with ``@clean_rule("name")`` / ``@ignore_rule("name", fields=...)`` in a module imported at
start-up, and names them in the settings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import attr

from xqueue_bridge.conf import get_setting
from xqueue_bridge.errors import ConfigurationError


@attr.frozen
class CleanRule:
    name: str
    description: str
    clean: Callable[[dict], dict]  # normalized values -> cleaned values (a new dict)


@attr.frozen
class IgnoreContext:
    """What an ignore rule looks at: both cleaned observations, the differing fields, their categories."""

    control: dict
    candidate: dict
    fields: frozenset[str]
    categories: tuple[str, ...]


@attr.frozen
class IgnoreRule:
    name: str
    description: str
    fields: frozenset[str]  # the fields whose difference it may accept
    applies: Callable[[IgnoreContext], bool]

    def accepts(self, context: IgnoreContext) -> frozenset[str]:
        """The differing fields this rule accepts in ``context`` (none unless it applies)."""
        if not (self.fields & context.fields) or not self.applies(context):
            return frozenset()
        return self.fields & context.fields


CLEAN_RULES: dict[str, CleanRule] = {}
IGNORE_RULES: dict[str, IgnoreRule] = {}


def _description(function: Callable) -> str:
    return " ".join((function.__doc__ or "").split())


def clean_rule(name: str):
    """Register ``function(values) -> values`` as the clean rule ``name``; its docstring describes it."""

    def register(function: Callable[[dict], dict]) -> Callable[[dict], dict]:
        CLEAN_RULES[name] = CleanRule(name, _description(function), function)
        return function

    return register


def ignore_rule(name: str, *, fields: Iterable[str]):
    """Register ``function(context) -> bool`` as the ignore rule ``name``, accepting differences in ``fields``."""

    def register(function: Callable[[IgnoreContext], bool]) -> Callable[[IgnoreContext], bool]:
        IGNORE_RULES[name] = IgnoreRule(name, _description(function), frozenset(fields), function)
        return function

    return register


def _selected(setting: str, registry: dict) -> list:
    names = get_setting("SHADOW")[setting]
    unknown = [name for name in names if name not in registry]
    if unknown:
        raise ConfigurationError(
            f"XQUEUE_BRIDGE['SHADOW']['{setting}'] names unknown rules {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(sorted(registry)) or '(none)'}"
        )
    return [registry[name] for name in names]


def active_clean_rules() -> list[CleanRule]:
    """The clean rules SHADOW["CLEAN_RULES"] names, in order; an unknown name raises ConfigurationError."""
    return _selected("CLEAN_RULES", CLEAN_RULES)


def active_ignore_rules() -> list[IgnoreRule]:
    """The ignore rules SHADOW["IGNORE_RULES"] names; an unknown name raises ConfigurationError."""
    return _selected("IGNORE_RULES", IGNORE_RULES)


# --- clean rules -------------------------------------------------------------------------------------

_SPACES = re.compile(r"[ \t\n\r\f\v]+")  # HTML's whitespace (a non-breaking space is not: see "nbsp")


def _with_feedback(values: dict, feedback: str) -> dict:
    return {**values, "feedback": feedback}


@clean_rule("collapse_whitespace")
def collapse_whitespace(values: dict) -> dict:
    """Runs of whitespace in the feedback count as one space, and leading or trailing whitespace as none
    (a browser renders them alike)."""
    return _with_feedback(values, _SPACES.sub(" ", values["feedback"]).strip())


@clean_rule("nbsp")
def nbsp(values: dict) -> dict:
    """A non-breaking space in the feedback (``&nbsp;``, ``&#160;``: capa rewrites one as the other)
    counts as a plain space (name it before collapse_whitespace to collapse both kinds together)."""
    return _with_feedback(values, values["feedback"].replace("\xa0", " "))


@clean_rule("points_precision")
def points_precision(values: dict) -> dict:
    """Points are compared to six decimals (0.1 * 3 and 0.3 are the same score)."""
    rounded = {
        name: None if values[name] is None else round(values[name], 6)
        for name in ("points_earned", "learner_points") if name in values
    }
    return {**values, **rounded}


_TAGS = re.compile(r"<[^>]*>")


@clean_rule("feedback_text")
def feedback_text(values: dict) -> dict:
    """Only the text of the feedback is compared, not its markup (for a renderer whose markup differs
    from the bridge's, e.g. an LMS's own)."""
    return _with_feedback(values, _SPACES.sub(" ", _TAGS.sub(" ", values["feedback"])).strip())


# --- ignore rules ------------------------------------------------------------------------------------


@ignore_rule("points_rounding", fields=["points_earned"])
def points_rounding(context: IgnoreContext) -> bool:
    """Accept a points_earned difference that is edx-submissions' half-to-even rounding of a fraction of
    one point (0.5 -> 0, where capa keeps 0.5); the learner sees the same feedback either way."""
    return "points_earned: rounding" in context.categories


@ignore_rule("points_units", fields=["points_earned"])
def points_units(context: IgnoreContext) -> bool:
    """Accept a points_earned difference that is only the unit: capa records the grader's score as raw
    points, edx-submissions as round(score x points_possible), on problems worth more than one point."""
    return "points_earned: units" in context.categories


@ignore_rule("duplicate_reply", fields=["error"])
def duplicate_reply(context: IgnoreContext) -> bool:
    """Accept the error difference of a duplicate reply (a grader's retry): XQueue answers it with HTTP
    200 and edx-submissions with 500; the learner's problem is unchanged either way."""
    return "error: duplicate_reply" in context.categories
