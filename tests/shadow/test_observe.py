"""Observations of each path on one reply: the transport checks, the receiving ends' rules, the dry runs."""

from __future__ import annotations

import json

import attr
import pytest

from tests.support.config import bridge_settings
from tests.support.grading import reply
from tests.support.rows import make_submission
from xqueue_bridge.models import DeliveryPath
from xqueue_bridge.render import updates
from xqueue_bridge.render.feedback import feedback_html
from xqueue_bridge.shadow import observe
from xqueue_bridge.shadow.compare import compare, reply_facts
from xqueue_bridge.transports import callback as callback_path
from xqueue_bridge.transports import event as event_path

pytestmark = pytest.mark.django_db


def test_common_pre_state_is_the_problem_queued_under_the_submissions_key():
    submission = make_submission(points_possible=4)
    before = observe.queued_snapshot(submission)
    assert (before.max_score, before.queuekey, before.correctness, before.npoints) == (
        4, submission.lms_key, "incomplete", None
    )


def test_both_paths_render_the_raw_reply_and_keep_their_own_score_of_record():
    submission = make_submission(points_possible=4)
    before = observe.queued_snapshot(submission)
    body = reply(correct=False, score=0.75, msg="<p>3 of 4</p>")

    callback = observe.observe_callback(submission, body, before)
    event = observe.observe_event(submission, body, before)

    assert (callback.points_earned, event.points_earned) == (0.75, 3)
    assert callback.correctness == event.correctness == "incorrect"
    assert callback.feedback == event.feedback and "3 of 4" in callback.feedback
    assert callback.key_consumed and event.key_consumed
    assert callback.error is None and event.error is None
    assert callback.duration != 0.0 and event.duration != 0.0  # measured, not left at the default


def test_event_data_survives_the_avro_round_trip_when_points_are_whole():
    submission = make_submission()
    score = event_path.interpret(submission, reply(score=0.6)).score
    assert observe.avro_round_trip(score) == score


def test_fractional_points_do_not_survive_the_event_bus(monkeypatch):
    """A producer that did not round (0.5 points) would lose the fraction over Avro's long."""
    submission = make_submission()
    before = observe.queued_snapshot(submission)
    body = reply(score=0.5)
    rounded = event_path.interpret(submission, body).score
    monkeypatch.setattr(event_path, "interpret", lambda s, r: event_path.EventInterpretation(
        score=attr.evolve(rounded, points_earned=0.5)
    ))

    event = observe.observe_event(submission, body, before)

    assert event.error == observe.AVRO_CHANGED
    assert event.points_earned == 0
    assert event.detail == "over the event bus: points_earned 0.5 -> 0"
    verdict = compare(observe.observe_callback(submission, body, before), event, facts=reply_facts(body, 1))
    assert verdict.categories == ("error: avro_changed", "points_earned: avro_truncation")


def test_callback_to_an_origin_no_longer_allowed_fails_its_transport_check():
    submission = make_submission()
    before = observe.queued_snapshot(submission)
    with bridge_settings(ALLOWED_CALLBACK_ORIGINS=["https://lms.example.com"]):
        callback = observe.observe_callback(submission, reply(), before)

    assert callback.error == observe.CALLBACK_NOT_ALLOWED
    assert "not an allowed LMS origin" in callback.detail
    assert (callback.key_consumed, callback.points_earned, callback.feedback) == (False, None, feedback_html(before))


@pytest.mark.parametrize(("broken", "why"), [
    ({"allow_redirects": True}, "must not follow redirects"),
    ({"timeout": None}, "explicit (connect, read) timeouts"),
    ({"url": "http://127.0.0.1:8000/elsewhere"}, "does not go to the submission's lms_callback_url"),
])
def test_callback_request_not_well_formed_for_its_url_fails_its_transport_check(monkeypatch, broken, why):
    submission = make_submission()
    real = callback_path.callback_request
    monkeypatch.setattr(callback_path, "callback_request", lambda s, body: {**real(s, body), **broken})

    callback = observe.observe_callback(submission, reply(), observe.queued_snapshot(submission))

    assert callback.error == observe.MALFORMED_REQUEST
    assert why in callback.detail


@pytest.mark.parametrize(("header", "error"), [
    ("not json", updates.HEADER_NOT_JSON),
    (json.dumps({"queue_name": "test-pull"}), updates.NO_LMS_KEY),
])
def test_lms_view_rules_on_the_header(header, error):
    submission = make_submission(xqueue_header=header)
    assert observe.observe_callback(submission, reply(), observe.queued_snapshot(submission)).error == error


def test_a_score_capa_cannot_read_is_a_render_error_on_one_path_and_unscorable_on_the_other():
    submission = make_submission()
    before = observe.queued_snapshot(submission)
    body = reply(score="lots")

    callback = observe.observe_callback(submission, body, before)
    event = observe.observe_event(submission, body, before)

    assert (callback.error, event.error) == (observe.RENDER_ERROR, observe.UNSCORABLE_REPLY)
    assert callback.key_consumed is False and event.key_consumed is False
    verdict = compare(callback, event, facts=reply_facts(body, 1))
    assert verdict.categories == ("error: non_numeric_score", "error: render_error")


def test_duplicate_starts_from_the_consumed_state():
    submission = make_submission()
    body = reply(score=1.0)
    consumed = observe.consumed_snapshot(submission, body)
    assert (consumed.queuekey, consumed.npoints, consumed.correctness) == (None, 1.0, "correct")

    callback = observe.observe(DeliveryPath.CALLBACK, submission, body, consumed, duplicate=True)
    event = observe.observe(DeliveryPath.EVENT, submission, body, consumed, duplicate=True)
    assert (callback.error, callback.key_consumed, callback.points_earned) == (None, False, 1.0)
    assert (event.error, event.key_consumed, event.points_earned) == (observe.DUPLICATE_REPLY, False, 1)
