"""
Two questions answered apart: what the learner gets, and what the record says. A partial-credit course
whose only difference is the event's rounded integer is ready; the rounding is reported as a record
difference, and blocks only when BLOCK_ON_RECORD_DIFFERENCES says so.
"""

from __future__ import annotations

import pytest

from tests.conftest import COURSE, set_stage
from tests.shadow.conftest import bridge_settings, only_comparison, reply
from tests.support.commands import command
from xqueue_bridge.shadow.compare import LEARNER, RECORD, ReplyFacts, column_of, compare, explain
from xqueue_bridge.shadow.observe import AVRO_CHANGED, DELIVERY_FAILED, DUPLICATE_REPLY, UNSCORABLE_REPLY, Observation

pytestmark = pytest.mark.django_db(transaction=True)

THRESHOLDS = {"MIN_COMPARISONS": 3, "MIN_HOURS": 0.0, "MAX_MISMATCH_RATE": 0.0, "MAX_ERROR_RATE": 0.0}


def readiness_of(course: str) -> dict:
    import json

    with bridge_settings(READINESS=THRESHOLDS):
        code, out, err = command("readiness", "--course", course, "--format", "json")
    assert code == 0, err
    [item] = json.loads(out)["courses"]
    return item


def test_half_a_point_is_the_same_for_the_learner_and_differs_only_in_the_record(grade):
    set_stage("shadow_callback")
    grading, answer = grade(reply(score=0.5))

    assert answer == (True, "")
    comparison = only_comparison(grading.submission)
    assert (comparison.learner_status, comparison.record_status) == ("matched", "mismatched")
    assert (comparison.learner_categories, comparison.record_categories) == ([], ["points_earned: rounding"])


def test_a_partial_credit_course_is_ready_on_learner_visible_grounds_with_a_note_on_rounding(grade):
    set_stage("shadow_callback")
    for score in (0.5, 0.25, 1.0):
        grade(reply(score=score))

    item = readiness_of(COURSE)
    assert (item["ready"], item["state"], item["comparisons"], item["mismatch_rate"]) == (True, "ready", 3, 0.0)
    assert item["record_differences"] == 2
    assert item["record_categories"] == {"points_earned: rounding": 2}
    assert any("rounded integer" in note for note in item["notes"])

    with bridge_settings(READINESS=THRESHOLDS):
        code, table, _ = command("readiness", "--course", COURSE)
    assert code == 0
    assert "yes" in table and "the event carries points_earned as a rounded integer" in table


def test_record_differences_block_readiness_when_the_setting_says_so(grade):
    set_stage("shadow_event")
    for _ in range(3):
        grade(reply(score=0.5))

    with bridge_settings(READINESS={**THRESHOLDS, "BLOCK_ON_RECORD_DIFFERENCES": True}):
        code, out, _ = command("readiness", "--format", "json")
    import json

    [item] = json.loads(out)["courses"]
    assert code == 0 and not item["ready"]
    assert item["reasons"] == [
        "record differences 100.0% are above 0.0% (BLOCK_ON_RECORD_DIFFERENCES; points_earned: rounding x3)"
    ]


def test_the_shadow_report_counts_the_two_columns_apart_in_table_json_and_csv(grade):
    set_stage("shadow_callback")
    grade(reply(score=0.5))
    grade(reply(score=-1.0))  # callback clamps to 0 and consumes the key; the event path leaves it queued

    import json

    code, out, _ = command("shadow_report", "--format", "json")
    [group] = json.loads(out)["groups"]
    assert group["learner_visible"]["mismatched"] == 1
    assert group["learner_visible"]["categories"] == {"error: negative_score": 1}
    assert group["record"]["mismatched"] == 2
    assert group["record"]["categories"] == {"points_earned: rounding": 1}
    _, table, _ = command("shadow_report")
    assert "what the learner gets: mismatched 1 (50.0%): error: negative_score x1" in table
    assert "what the record says: differs 2 (100.0%): points_earned: rounding x1" in table
    _, csv_text, _ = command("shadow_report", "--format", "csv")
    header, row = csv_text.splitlines()
    values = dict(zip(header.split(","), row.split(","), strict=False))
    assert (values["learner_mismatched"], values["record_differences"]) == ("1", "2")


# --- each known difference lands in its column (docs/decisions/0008, CONTRACTS.md section 4) --------


def seen(path, *, points=1.0, shown=None, correctness="correct", feedback="<p>ok</p>", consumed=True,
         error=None, learner=None, possible=1) -> Observation:
    return Observation(path=path, points_earned=points, learner_points=points if shown is None else shown,
                       points_possible=possible, correctness=correctness, feedback=feedback,
                       key_consumed=consumed, error=error, learner=learner)


QUEUED = {"points": None, "shown": None, "correctness": "queued", "feedback": "", "consumed": False}
NOTICE = {"points": 0.0, "correctness": "incorrect", "feedback": "<div>could not be graded</div>"}
CASES = [
    ("points_earned: rounding", RECORD, seen("callback", points=0.5), seen("event", points=0.0, shown=0.5),
     ReplyFacts("ok", 0.5), {}),
    ("points_earned: units", RECORD, seen("callback", points=0.75, possible=4),
     seen("event", points=3.0, shown=0.75, possible=4), ReplyFacts("ok", 0.75), {}),
    ("points_earned: avro_truncation", RECORD, seen("callback", points=0.5),
     seen("event", points=0.0, shown=0.5, error=AVRO_CHANGED), ReplyFacts("ok", 0.5), {}),
    ("points_earned: invalid_reply_scored", RECORD, seen("callback", points=0.0, shown=0.0),
     seen("event", points=1.0, shown=0.0), ReplyFacts("missing_fields", 1.0), {}),
    ("error: duplicate_reply", RECORD, seen("callback"), seen("event", error=DUPLICATE_REPLY),
     ReplyFacts("ok", 1.0), {}),
    ("error: negative_score", LEARNER, seen("callback", points=0.0, correctness="incorrect"),
     seen("event", error=UNSCORABLE_REPLY, **QUEUED), ReplyFacts("negative_score", -1.0), {}),
    ("error: invalid_reply", LEARNER, seen("callback", points=0.0, correctness=None, feedback="<p>Invalid</p>"),
     seen("event", error=UNSCORABLE_REPLY, **QUEUED), ReplyFacts("not_json"), {}),
    ("error: delivery_failed", LEARNER, seen("callback", error=DELIVERY_FAILED, **NOTICE), seen("event"),
     ReplyFacts("ok", 1.0), {}),
    ("terminal: failure_notice", LEARNER, seen("event", error=UNSCORABLE_REPLY, **NOTICE),
     seen("callback", points=0.0, correctness="incorrect"), ReplyFacts("negative_score", -1.0), {"given_up": True}),
    ("identity: learner_not_found", LEARNER, seen("callback", learner="7"), seen("event", learner="unknown learner"),
     ReplyFacts("ok", 1.0), {}),
    ("identity: different_learner", LEARNER, seen("callback", learner="7"), seen("event", learner="8"),
     ReplyFacts("ok", 1.0), {}),
]


@pytest.mark.parametrize(("category", "column", "control", "candidate", "facts", "context"), CASES,
                         ids=[case[0] for case in CASES])
def test_each_known_difference_lands_in_its_column(category, column, control, candidate, facts, context):
    verdict = compare(control, candidate, facts=facts, context=context)
    explained = explain(
        frozenset(verdict.diff), verdict.control, verdict.candidate, control_path=control.path,
        candidate_path=candidate.path, facts=facts, context=context,
    )
    assert category in explained and column_of(explained[category]) == column
    assert category in (verdict.learner_categories if column == LEARNER else verdict.record_categories)
    assert (verdict.learner_status == "mismatched") == (column == LEARNER or bool(verdict.learner_categories))


def test_the_failure_notice_is_the_same_for_the_learner_on_both_paths():
    """The notice's shape: both paths deliver the same body, so the learner sees the same notice."""
    verdict = compare(seen("callback", **NOTICE), seen("event", **NOTICE), facts=ReplyFacts("ok", 0.0))
    assert (verdict.status, verdict.learner_status, verdict.record_status) == ("matched", "matched", "matched")
