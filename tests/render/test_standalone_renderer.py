"""The standalone renderer on a real database: persistence, dry runs, idempotency, the concurrency guard."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from tests.support import sink
from tests.support.sink import ANON, KEY, USAGE, USER, callback_update, event_update, queue, reply
from xqueue_bridge.errors import ConfigurationError, UnknownProblem
from xqueue_bridge.render.capa import INVALID_REPLY_MSG, CapaRenderer, get_renderer
from xqueue_bridge.sink import learners
from xqueue_bridge.sink.models import LearnerUpdate, ProblemState
from xqueue_bridge.sink.renderer import StandaloneRenderer, get_applying_renderer

renderer = StandaloneRenderer()


@pytest.mark.django_db
def test_callback_update_is_applied_to_the_learners_state_and_logged():
    queue(max_score=2)

    outcome = renderer.apply(callback_update(reply(correct=True, score=1.5, msg="<p>nearly</p>")))

    state = sink.state()
    assert outcome.applied
    assert (state.queuekey, state.correctness, state.npoints, state.msg) == (
        None,
        "correct",
        1.5,
        "<p>nearly</p>",
    )
    assert state.feedback_html == outcome.feedback_html
    assert "1.5 / 2 points" in state.feedback_html
    [logged] = sink.updates()
    assert (logged.via, logged.dispatch, logged.valid_reply, logged.applied, logged.applied_key) == (
        "callback",
        "score_update",
        True,
        True,
        KEY,
    )
    assert (logged.npoints, logged.correctness, logged.error) == (1.5, "correct", "")


@pytest.mark.django_db
def test_event_update_finds_the_learner_by_anonymous_id():
    queue()

    outcome = renderer.apply(event_update(reply(correct=False, score=0, msg="<p>no</p>")))

    assert outcome.applied
    state = learners.problem_state(USAGE, anonymous_student_id=ANON)
    assert (state.correctness, state.npoints) == ("incorrect", 0.0)
    assert [u.via for u in sink.updates()] == ["event"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "update",
    [
        callback_update(reply(), user_id="8"),
        callback_update(reply(), usage_key=USAGE.replace("p1", "p2")),
        callback_update(reply(), course_id="course-v1:Org+Other+Run"),
        event_update(reply(), anonymous_student_id="anon-8"),
        event_update(reply(), anonymous_student_id=None),
        callback_update(reply(), user_id=None),
    ],
    ids=[
        "other-user",
        "other-problem",
        "other-course",
        "other-anonymous-id",
        "event-without-id",
        "callback-without-id",
    ],
)
def test_update_for_an_unknown_learner_or_problem_raises_unknown_problem(update):
    queue()

    with pytest.raises(UnknownProblem, match=r"no problem state|names no"):
        renderer.apply(update)
    assert sink.updates() == []


@pytest.mark.django_db
@pytest.mark.parametrize("via", ["callback", "event"])
def test_dry_run_persists_nothing_and_predicts_the_real_outcome(via):
    queue()
    update = (callback_update if via == "callback" else event_update)(reply(score=0.5, msg="<p>half</p>"))
    before = sink.state()

    predicted = renderer.apply(update, dry_run=True)

    after_dry_run = sink.state()
    assert (after_dry_run.queuekey, after_dry_run.correctness, after_dry_run.npoints, after_dry_run.msg) == (
        before.queuekey,
        before.correctness,
        before.npoints,
        before.msg,
    )
    assert after_dry_run.updated_at == before.updated_at
    assert LearnerUpdate.objects.count() == 0
    assert predicted == renderer.apply(update)


@pytest.mark.django_db
def test_redelivery_of_an_applied_result_is_a_logged_no_op():
    queue()
    first = renderer.apply(callback_update(reply(score=1, msg="<p>first</p>")))

    second = renderer.apply(event_update(reply(score=0, msg="<p>second</p>")))

    assert first.applied and not second.applied and not second.changed
    assert (sink.state().npoints, sink.state().msg) == (1.0, "<p>first</p>")
    assert [(u.via, u.applied) for u in sink.updates()] == [("callback", True), ("event", False)]


@pytest.mark.django_db
def test_invalid_reply_is_persisted_as_capa_shows_it():
    queue()

    outcome = renderer.apply(callback_update("not json"))

    state = sink.state()
    assert not outcome.valid_reply
    assert (state.queuekey, state.correctness, state.npoints, state.msg) == (
        None,
        None,
        None,
        INVALID_REPLY_MSG,
    )
    [logged] = sink.updates()
    assert (logged.valid_reply, logged.applied, logged.applied_key) == (False, False, None)


@pytest.mark.django_db
def test_failed_update_changes_no_state_and_is_logged_with_its_error():
    queue()

    outcome = renderer.apply(callback_update(reply(score="full marks")))

    state = sink.state()
    assert outcome.error
    assert (state.queuekey, state.correctness) == (KEY, "incomplete")
    [logged] = sink.updates()
    assert not logged.applied and "not a number" in logged.error


@pytest.mark.django_db
def test_ungraded_response_records_the_message_and_keeps_score_and_key():
    queue()

    outcome = renderer.apply(callback_update('{"msg": "<p>plot</p>"}', dispatch="ungraded_response"))

    state = sink.state()
    assert not outcome.applied and outcome.error is None
    assert (state.ungraded_msg, state.queuekey, state.correctness, state.npoints) == (
        "<p>plot</p>",
        KEY,
        "incomplete",
        None,
    )
    assert [(u.dispatch, u.applied) for u in sink.updates()] == [("ungraded_response", False)]


@pytest.mark.django_db
def test_unknown_dispatch_is_refused():
    queue()

    with pytest.raises(ValueError, match="dispatch"):
        renderer.apply(callback_update(reply(), dispatch="problem_reset"))


@pytest.mark.django_db
def test_messages_every_database_cannot_hold_are_stored_with_replacement_characters():
    """Capa accepts NUL and unpaired surrogates in a msg; PostgreSQL and MariaDB cannot store them."""
    queue()

    # html5lib drops the unfinished tag at the end, so this parses (to "<p>ab</p><") and is valid.
    outcome = renderer.apply(callback_update(reply(msg="<p>a\u0000b</p><<a href=\ud800")))

    assert outcome.applied
    assert sink.state().msg == "<p>a\ufffdb</p><<a href=\ufffd"
    assert '<div class="xqueue-feedback-message"><p>ab</p>&lt;</div>' in sink.state().feedback_html


@pytest.mark.django_db
def test_guard_refuses_a_second_applied_update_of_one_key():
    problem = queue()
    LearnerUpdate.objects.create(
        problem=problem, queuekey=KEY, via="callback", valid_reply=True, applied=True, applied_key=KEY
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        LearnerUpdate.objects.create(
            problem=problem, queuekey=KEY, via="event", valid_reply=True, applied=True, applied_key=KEY
        )
    assert LearnerUpdate.objects.filter(applied=True).count() == 1


@pytest.mark.django_db
def test_guard_allows_any_number_of_not_applied_updates():
    problem = queue()
    for via in ("callback", "event", "callback"):
        LearnerUpdate.objects.create(problem=problem, queuekey=KEY, via=via, valid_reply=True, applied=False)

    assert LearnerUpdate.objects.filter(problem=problem).count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(("applied", "applied_key"), [(True, None), (False, KEY)])
def test_applied_key_is_set_exactly_when_applied(applied, applied_key):
    problem = queue()

    with pytest.raises(IntegrityError), transaction.atomic():
        LearnerUpdate.objects.create(
            problem=problem,
            queuekey=KEY,
            via="callback",
            valid_reply=True,
            applied=applied,
            applied_key=applied_key,
        )


@pytest.mark.django_db
def test_learner_updates_are_append_only():
    queue()
    renderer.apply(callback_update(reply()))
    [logged] = sink.updates()

    logged.applied = False
    with pytest.raises(ValueError, match="append-only"):
        logged.save()


@pytest.mark.django_db
def test_lost_race_past_the_lock_becomes_a_no_op(monkeypatch):
    """Were two deliveries to see the key unconsumed, the guard lets one apply and the other re-reads."""
    queue()
    stale = sink.state()  # read before the first delivery consumed the key
    renderer.apply(callback_update(reply(score=1, msg="<p>first</p>")))
    real_locate = learners.locate_problem
    calls = []

    def locate_stale_once(update, *, lock=False):
        calls.append(lock)
        return stale if len(calls) == 1 else real_locate(update, lock=lock)

    monkeypatch.setattr(learners, "locate_problem", locate_stale_once)
    outcome = renderer.apply(event_update(reply(score=0, msg="<p>second</p>")))

    assert calls == [True, True]
    assert not outcome.applied
    assert (sink.state().npoints, sink.state().msg) == (1.0, "<p>first</p>")
    assert [u.applied for u in sink.updates()] == [True, False]


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_result_apply_it_once():
    queue()
    deliveries = [
        callback_update(reply(score=1, msg="<p>callback</p>")),
        event_update(reply(score=1, msg="<p>event</p>")),
        callback_update(reply(score=1, msg="<p>callback again</p>")),
        event_update(reply(score=1)),
    ]
    start = threading.Barrier(len(deliveries))
    outcomes, errors = [], []

    def deliver(update):
        try:
            start.wait()
            outcomes.append(StandaloneRenderer().apply(update))
        except Exception as exc:  # reported below; a thread's exception would otherwise be lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(update,)) for update in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(outcome.applied for outcome in outcomes) == 1
    assert LearnerUpdate.objects.count() == len(deliveries)
    assert LearnerUpdate.objects.filter(applied=True).count() == 1
    assert ProblemState.objects.get().queuekey is None


@pytest.mark.django_db
def test_begin_attempt_queues_again_under_a_new_key():
    queue()
    renderer.apply(callback_update(reply(score=1)))

    queue(queuekey="key-2")
    outcome = renderer.apply(callback_update(reply(correct=False, score=0), queuekey="key-2"))

    assert outcome.applied
    assert [u.applied_key for u in sink.updates()] == [KEY, "key-2"]


def test_get_renderer_returns_the_configured_renderer_once():
    assert isinstance(get_renderer(), StandaloneRenderer)
    assert get_renderer() is get_renderer()


@override_settings(XQUEUE_BRIDGE={"RENDERER": "xqueue_bridge.render.capa.CapaRenderer"})
def test_get_renderer_follows_the_setting():
    renderer = get_renderer()

    assert type(renderer) is CapaRenderer
    assert not hasattr(renderer, "apply")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("xqueue_bridge.render.capa.NoSuchRenderer", "cannot be imported"),
        ("xqueue_bridge.data.ScoreUpdate", "subclass"),
    ],
)
def test_get_renderer_names_a_bad_setting(path, message):
    with (
        override_settings(XQUEUE_BRIDGE={"RENDERER": path}),
        pytest.raises(ConfigurationError, match=message),
    ):
        get_renderer()


@pytest.mark.django_db
def test_state_user_id_is_the_numeric_lms_id_as_text():
    queue(user_id=int(USER))

    assert sink.state().user_id == USER


@override_settings(XQUEUE_BRIDGE={"RENDERER": "xqueue_bridge.render.capa.CapaRenderer"})
def test_receiving_ends_need_a_renderer_that_can_apply():
    with pytest.raises(ConfigurationError, match="RECEIVING_ENDS"):
        get_applying_renderer()


def test_receiving_ends_get_the_configured_standalone_renderer():
    assert get_applying_renderer() is get_renderer()
