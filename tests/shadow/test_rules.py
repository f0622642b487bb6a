"""Clean rules normalize before comparing; ignore rules accept known differences; both are named."""

from __future__ import annotations

import pytest

from tests.shadow.conftest import bridge_settings
from xqueue_bridge.errors import ConfigurationError
from xqueue_bridge.shadow import rules
from xqueue_bridge.shadow.compare import ReplyFacts, compare
from xqueue_bridge.shadow.observe import Observation


def seen(path="callback", *, feedback="<p>All tests passed</p>", points=1.0, error=None, possible=1,
         shown=None) -> Observation:
    """An observation whose score of record is ``points``; the learner's problem grades with ``shown``."""
    return Observation(path=path, points_earned=points, points_possible=possible, correctness="correct",
                       feedback=feedback, key_consumed=True, error=error,
                       learner_points=points if shown is None else shown)


OK = ReplyFacts("ok", 1.0)


def test_markup_spelled_differently_is_the_same_feedback():
    control = seen(feedback='<div class="a" id=b><p>Hi<br/></p></div>')
    candidate = seen("event", feedback="<div id='b' class='a'><p>Hi<br></p></div>")
    assert compare(control, candidate, facts=OK).status == "matched"


def test_whitespace_and_nbsp_are_cleaned_only_by_their_rules():
    control = seen(feedback="<p>3 of 4\u00a0 tests\n passed</p>")
    candidate = seen("event", feedback="<p>3 of 4 tests passed</p>")
    plain = compare(control, candidate, facts=OK)
    cleaned = compare(control, candidate, facts=OK, clean_rules=[rules.CLEAN_RULES["nbsp"],
                                                                  rules.CLEAN_RULES["collapse_whitespace"]])
    half = compare(control, candidate, facts=OK, clean_rules=[rules.CLEAN_RULES["collapse_whitespace"]])
    assert (plain.status, plain.categories) == ("mismatched", ("feedback: differs",))
    assert cleaned.status == "matched"
    assert half.status == "mismatched"


def test_points_precision_and_feedback_text():
    assert compare(seen(points=0.1 * 3), seen("event", points=0.3), facts=ReplyFacts("ok", 0.3),
                   clean_rules=[rules.CLEAN_RULES["points_precision"]]).status == "matched"
    assert compare(seen(feedback="<b>Well</b> done"), seen("event", feedback="<i>Well</i> done"), facts=OK,
                   clean_rules=[rules.CLEAN_RULES["feedback_text"]]).status == "matched"


def test_ignore_rule_turns_an_accepted_difference_into_ignored():
    control, candidate = seen(points=0.5), seen("event", points=0, shown=0.5)
    facts = ReplyFacts("ok", 0.5)
    verdict = compare(control, candidate, facts=facts, ignore_rules=[rules.IGNORE_RULES["points_rounding"]])
    assert (verdict.status, verdict.ignored_by, verdict.categories) == (
        "ignored", ("points_rounding",), ("points_earned: rounding",)
    )
    assert verdict.diff == {"points_earned": {"control": 0.5, "candidate": 0.0}}
    other = compare(control, candidate, facts=facts, ignore_rules=[rules.IGNORE_RULES["points_units"]])
    assert (other.status, other.ignored_by) == ("mismatched", ())


def test_a_partly_accepted_mismatch_stays_mismatched_and_says_which_rule_took_part():
    control = seen(points=0.5)
    candidate = seen("event", points=0, shown=0.5, error="duplicate_reply")
    verdict = compare(control, candidate, facts=ReplyFacts("ok", 0.5),
                      ignore_rules=[rules.IGNORE_RULES["duplicate_reply"]])
    assert verdict.status == "mismatched"
    assert verdict.ignored_by == ("duplicate_reply",)
    both = compare(control, candidate, facts=ReplyFacts("ok", 0.5),
                   ignore_rules=[rules.IGNORE_RULES["duplicate_reply"], rules.IGNORE_RULES["points_rounding"]])
    assert both.status == "ignored"


def test_rules_are_chosen_by_name_and_an_unknown_name_says_which_exist():
    with bridge_settings(shadow={"CLEAN_RULES": ["nbsp"], "IGNORE_RULES": ["points_units"]}):
        assert [rule.name for rule in rules.active_clean_rules()] == ["nbsp"]
        assert [rule.name for rule in rules.active_ignore_rules()] == ["points_units"]
    with bridge_settings(shadow={"IGNORE_RULES": ["everything"]}):
        with pytest.raises(ConfigurationError, match=r"unknown rules 'everything'; known: duplicate_reply, "):
            rules.active_ignore_rules()


def test_every_rule_is_documented():
    for rule in [*rules.CLEAN_RULES.values(), *rules.IGNORE_RULES.values()]:
        assert len(rule.description) > 40, rule.name


def test_a_project_registers_its_own_rule():
    @rules.clean_rule("tests_lowercase")
    def lowercase(values: dict) -> dict:
        """Feedback compared without case."""
        return {**values, "feedback": values["feedback"].lower()}

    try:
        with bridge_settings(shadow={"CLEAN_RULES": ["tests_lowercase"]}):
            verdict = compare(seen(feedback="<p>OK</p>"), seen("event", feedback="<p>ok</p>"), facts=OK,
                              clean_rules=rules.active_clean_rules())
        assert verdict.status == "matched"
        assert rules.CLEAN_RULES["tests_lowercase"].description == "Feedback compared without case."
    finally:
        del rules.CLEAN_RULES["tests_lowercase"]
