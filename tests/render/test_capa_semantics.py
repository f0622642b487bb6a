"""
The legacy interpretation, rule by rule: what capa's CodeResponse does to a queued input for a reply.

Pure: no database. Each test names the rule it pins.
"""

from __future__ import annotations

import json

import pytest

from tests.support.sink import KEY, callback_update, reply
from xqueue_bridge.data import ProblemSnapshot
from xqueue_bridge.render.capa import INVALID_REPLY_MSG, CapaRenderer, parse_score_msg

QUEUED = ProblemSnapshot(max_score=1, queuekey=KEY, correctness="incomplete", npoints=None, msg="")
renderer = CapaRenderer()


def evaluate(body: str, before: ProblemSnapshot = QUEUED, queuekey: str = KEY):
    return renderer.evaluate(callback_update(body, queuekey=queuekey), before)


def test_valid_reply_is_applied_and_consumes_the_queue_key():
    outcome = evaluate(reply(correct=True, score=1, msg="<p>All tests passed</p>"))

    assert outcome.valid_reply and outcome.applied and outcome.error is None
    assert outcome.after == ProblemSnapshot(
        max_score=1, queuekey=None, correctness="correct", npoints=1.0, msg="<p>All tests passed</p>"
    )
    assert outcome.after.earned == 1
    assert outcome.before == QUEUED


@pytest.mark.parametrize(
    "body",
    ["not json", "", "[1, 2]", '"a string"', "3", "null", "true", "{'correct': true}"],
    ids=["text", "empty", "list", "string", "number", "null", "bool", "python-dict"],
)
def test_reply_that_is_not_a_json_object_is_invalid(body):
    outcome = evaluate(body)

    assert not outcome.valid_reply and not outcome.applied and outcome.error is None
    assert outcome.after == ProblemSnapshot(
        max_score=1, queuekey=None, correctness=None, npoints=None, msg=INVALID_REPLY_MSG
    )
    assert outcome.after.earned == 0


@pytest.mark.parametrize("missing", ["correct", "score", "msg"])
def test_reply_missing_a_field_is_invalid(missing):
    fields = {"correct": True, "score": 1, "msg": "<p>ok</p>"}
    del fields[missing]

    outcome = evaluate(json.dumps(fields))

    assert not outcome.valid_reply
    assert outcome.after.msg == INVALID_REPLY_MSG
    assert (outcome.after.queuekey, outcome.after.correctness, outcome.after.npoints) == (None, None, None)


def test_invalid_reply_clears_the_entry_even_when_its_queue_key_is_stale():
    """Capa checks the reply before the key: a late invalid reply un-queues the newer submission."""
    graded = ProblemSnapshot(max_score=1, queuekey="newer-key", correctness="incomplete")

    outcome = evaluate("not json", before=graded, queuekey="older-key")

    assert outcome.after.queuekey is None
    assert outcome.after.msg == INVALID_REPLY_MSG
    assert not outcome.applied


def test_extra_fields_in_a_reply_are_ignored():
    outcome = evaluate(json.dumps({"correct": True, "score": 1, "msg": "ok", "grader_id": "abc"}))

    assert outcome.applied and outcome.after.correctness == "correct"


@pytest.mark.parametrize(
    "msg",
    ["", "</div>", "\u000b"],
    ids=["empty", "lone-end-tag-parses-to-nothing", "control-character-html5lib-refuses"],
)
def test_msg_that_parses_to_nothing_makes_the_reply_invalid(msg):
    outcome = evaluate(reply(msg=msg))

    assert not outcome.valid_reply
    assert outcome.after.msg == INVALID_REPLY_MSG


@pytest.mark.parametrize(
    "msg",
    [
        "Great job",
        " ",
        "<p>well-formed <b>XML</b></p>",
        "<div><p>unclosed paragraph</div>",
        '<audio controls src="https://example.org/a.mp3"></audio>',
        "<video controls autoplay></video>",
        "a < b & c",
        "</p>",
        "<!-- just a comment -->",
    ],
    ids=[
        "plain-text",
        "blank",
        "xml",
        "broken-html",
        "bare-attribute",
        "bare-attributes",
        "stray-symbols",
        "end-tag-html5lib-repairs",
        "comment",
    ],
)
def test_msg_that_parses_as_xml_or_html_is_kept_verbatim(msg):
    outcome = evaluate(reply(msg=msg))

    assert outcome.valid_reply and outcome.applied
    assert outcome.after.msg == msg


@pytest.mark.parametrize(
    "msg",
    [None, 5, 1.5, True, ["<p>a</p>"], {"html": "<p>a</p>"}],
    ids=["null", "int", "float", "bool", "list", "object"],
)
@pytest.mark.parametrize("queuekey", [KEY, "stale-key"], ids=["matching-key", "stale-key"])
def test_msg_that_is_not_a_string_fails_like_the_lms_whatever_the_key(msg, queuekey):
    outcome = evaluate(reply(msg=msg), queuekey=queuekey)

    assert outcome.error is not None and "msg" in outcome.error
    assert not outcome.applied
    assert outcome.after == QUEUED


def test_msg_with_an_xml_encoding_declaration_fails_like_the_lms():
    outcome = evaluate(reply(msg='<?xml version="1.0" encoding="utf-8"?><p>ok</p>'))

    assert outcome.error is not None and "encoding declaration" in outcome.error
    assert outcome.after == QUEUED


@pytest.mark.parametrize(
    ("correct", "expected"),
    [
        (True, "correct"),
        (1, "correct"),
        ("false", "correct"),
        ("no", "correct"),
        ([0], "correct"),
        (False, "incorrect"),
        (0, "incorrect"),
        (None, "incorrect"),
        ("", "incorrect"),
        ([], "incorrect"),
    ],
)
def test_correctness_is_the_truthiness_of_correct(correct, expected):
    outcome = evaluate(reply(correct=correct, score=1))

    assert outcome.after.correctness == expected


def test_correct_flag_and_score_are_independent():
    incorrect_full_marks = evaluate(reply(correct=False, score=1)).after
    correct_no_marks = evaluate(reply(correct=True, score=0)).after

    assert (incorrect_full_marks.correctness, incorrect_full_marks.earned) == ("incorrect", 1)
    assert (correct_no_marks.correctness, correct_no_marks.earned) == ("correct", 0)


@pytest.mark.parametrize(
    ("score", "npoints"),
    [
        (-3, 0.0),
        (-0.5, 0.0),
        (0, 0.0),
        (0.5, 0.5),
        (2 / 3, 2 / 3),
        (1, 1.0),
        (3, 3.0),
        (250.25, 250.25),
        (True, 1.0),
        (False, 0.0),
    ],
    ids=[
        "negative-int",
        "negative-float",
        "zero",
        "half",
        "two-thirds",
        "one",
        "above-max",
        "far-above-max",
        "true",
        "false",
    ],
)
def test_score_is_raw_points_clamped_at_zero_only(score, npoints):
    outcome = evaluate(reply(score=score))

    assert outcome.applied
    assert outcome.after.npoints == npoints
    assert outcome.after.earned == npoints


@pytest.mark.parametrize("score", ["1", None, [1], {"points": 1}], ids=["string", "null", "list", "object"])
def test_non_numeric_score_fails_like_the_lms_and_applies_nothing(score):
    outcome = evaluate(reply(score=score))

    assert outcome.error is not None and "not a number" in outcome.error
    assert outcome.valid_reply and not outcome.applied
    assert outcome.after == QUEUED


def test_non_numeric_score_with_a_stale_key_is_a_quiet_no_op():
    """Capa compares keys before it reads the score: a stale reply never reaches max(score, 0)."""
    outcome = evaluate(reply(score="lots"), queuekey="stale-key")

    assert outcome.error is None
    assert outcome.after == QUEUED


@pytest.mark.parametrize(
    "body",
    [
        '{"correct": true, "score": NaN, "msg": "ok"}',
        '{"correct": true, "score": Infinity, "msg": "ok"}',
        '{"correct": true, "score": 1e999, "msg": "ok"}',
        '{"correct": true, "score": 1' + "0" * 400 + ', "msg": "ok"}',
    ],
    ids=["nan", "infinity", "overflowing-float", "overflowing-int"],
)
def test_non_finite_score_is_an_error_rather_than_a_stored_grade(body):
    outcome = evaluate(body)

    assert outcome.error is not None and "finite" in outcome.error
    assert outcome.after == QUEUED


def test_negative_infinity_clamps_to_zero_as_in_capa():
    outcome = evaluate('{"correct": false, "score": -Infinity, "msg": "ok"}')

    assert outcome.applied and outcome.after.npoints == 0.0


@pytest.mark.parametrize(
    "before",
    [
        QUEUED,
        ProblemSnapshot(max_score=1, queuekey=None, correctness="correct", npoints=1.0, msg="<p>earlier</p>"),
    ],
    ids=["queued-under-another-key", "not-queued"],
)
def test_reply_whose_key_is_not_the_stored_one_changes_nothing(before):
    outcome = evaluate(reply(correct=False, score=0), before=before, queuekey="some-other-key")

    assert outcome.valid_reply and not outcome.applied and outcome.error is None
    assert outcome.after == before
    assert not outcome.changed


def test_redelivered_reply_is_a_no_op_because_the_key_was_consumed():
    first = evaluate(reply(score=0.5))
    second = renderer.evaluate(callback_update(reply(score=1)), first.after)

    assert first.applied and not second.applied
    assert second.after == first.after


def test_nbsp_entities_become_numeric_references():
    outcome = evaluate(reply(msg="<p>a&nbsp;b&nbsp;&nbsp;c</p>"))

    assert outcome.after.msg == "<p>a&#160;b&#160;&#160;c</p>"


def test_max_score_is_kept_from_the_stored_state():
    before = ProblemSnapshot(max_score=5, queuekey=KEY, correctness="incomplete")

    outcome = evaluate(reply(score=4), before=before)

    assert outcome.after.max_score == 5 and outcome.after.earned == 4


def test_evaluate_is_for_score_updates_only():
    with pytest.raises(ValueError, match="score_update"):
        renderer.evaluate(callback_update(reply(), dispatch="ungraded_response"), QUEUED)


def test_dry_run_is_evaluate():
    update = callback_update(reply(score=0.25))

    assert renderer.dry_run(update, QUEUED) == renderer.evaluate(update, QUEUED)


def test_parse_score_msg_says_why_a_reply_is_invalid():
    parsed = parse_score_msg('{"correct": true}')

    assert not parsed.valid
    assert "score, msg" in parsed.reason and "expected" in parsed.reason


@pytest.mark.parametrize(
    ("body", "recorded"),
    [('{"msg": "<p>plot</p>"}', "<p>plot</p>"), ('{"msg": {"x": [1, 2]}}', '{"x": [1, 2]}')],
)
def test_ungraded_response_keeps_the_message_and_never_the_score(body, recorded):
    outcome, message = renderer.evaluate_ungraded(callback_update(body, dispatch="ungraded_response"), QUEUED)

    assert message == recorded
    assert outcome.after == QUEUED and not outcome.applied and outcome.error is None


@pytest.mark.parametrize("body", ['{"msg": "plot"}', "not json", '{"plot": 1}'])
def test_ungraded_response_under_another_key_is_ignored_unread(body):
    outcome, message = renderer.evaluate_ungraded(
        callback_update(body, queuekey="other", dispatch="ungraded_response"), QUEUED
    )

    assert message is None and outcome.after == QUEUED
    assert outcome.error is None and outcome.valid_reply and not outcome.applied


@pytest.mark.parametrize("body", ["not json", "[1]", '{"plot": 1}', '"text"'])
def test_ungraded_response_without_a_json_msg_fails_like_the_lms(body):
    outcome, message = renderer.evaluate_ungraded(callback_update(body, dispatch="ungraded_response"), QUEUED)

    assert message is None
    assert outcome.error is not None and not outcome.valid_reply
