"""
The candidate never touches the learner: the same scenario run with shadow on and off leaves the same
learner state in the sink, the same callbacks received by an LMS, the same events emitted and the same
answers to the grader. Only the comparisons differ.
"""

from __future__ import annotations

import json

import attr
import pytest

from tests.support.config import bridge_settings
from tests.support.grading import Grading, reply
from tests.support.lms import COURSE
from xqueue_bridge.shadow.models import Comparison
from xqueue_bridge.sink.models import ProblemState

pytestmark = pytest.mark.django_db(transaction=True)

# (name, grader reply, points possible): every kind of reply shadow mode reports on.
SCENARIO = [
    ("full", reply(score=1.0), 1),
    ("half", reply(score=0.5), 1),
    ("units", reply(correct=False, score=0.75), 4),
    ("negative", reply(correct=False, score=-1), 1),
    ("invalid", "All tests passed", 1),
    ("no-msg", json.dumps({"correct": True, "score": 1}), 1),
    ("not-a-number", reply(score="lots"), 1),
]
# One queue per reply and run: a refused reply goes back to its queue, and must not be pulled by the next.
NAMES = [name for name, _, _ in SCENARIO] + ["external"]
QUEUES = [f"q-{tag}-{name}" for tag in ("shadowon", "shadowoff") for name in NAMES]


def run_scenario(tag: str, lms, grader, learner, lms_server) -> list:
    """Every reply of SCENARIO once (the first twice, as a grader's retry), plus one to an external LMS."""
    answers = []
    for number, (name, body, points) in enumerate(SCENARIO, start=1):
        key = f"key-{name}"
        url, _ = learner(user_id=number, anonymous_id=f"anon-{number}", queuekey=key, block=f"{tag}-{name}",
                         max_score=points)
        grading = Grading(lms, grader, url, key=key, anonymous_id=f"anon-{number}",
                          points_possible=points if points != 1 else None, queue=f"q-{tag}-{name}")
        answers.append((name, grading.put(body)))
        if name == "full":
            answers.append(("full again", grading.put(body)))
    external = Grading(lms, grader, lms_server.callback_url(block=f"{tag}-external"), key="key-external",
                       anonymous_id="anon-external", queue=f"q-{tag}-external")
    answers.append(("external", external.put(reply(score=0.5))))
    return answers


def _untagged(value, tag: str):
    return json.loads(json.dumps(value).replace(f"{tag}-", "T-"))


def observed(tag: str, answers, lms_server, events) -> dict:
    """What a learner, an LMS and an event consumer saw of the run tagged ``tag``."""
    states = {}
    for state in ProblemState.objects.filter(usage_key__contains=f"block@{tag}-").order_by("id"):
        updates = [
            (u.via, u.dispatch, u.valid_reply, u.applied, u.npoints, u.correctness, u.error)
            for u in state.updates.order_by("id")
        ]
        states[state.usage_key.split("block@", 1)[1]] = {
            "correctness": state.correctness, "npoints": state.npoints, "msg": state.msg,
            "queued": state.queuekey is not None, "feedback_html": state.feedback_html, "updates": updates,
        }
    calls = [call for call in lms_server.calls if f"{tag}-" in call["path"]]
    scores = [
        {name: value for name, value in attr.asdict(score).items() if name != "submission_id"}
        for score in events if f"{tag}-" in score.module_id
    ]
    return _untagged({"answers": answers, "learners": states, "callbacks": calls, "events": scores}, tag)


@pytest.mark.slow
@pytest.mark.parametrize(("shadowed", "plain"), [("shadow_callback", "callback"), ("shadow_event", "event")])
def test_shadow_on_and_off_give_learners_lms_and_event_consumers_the_same(
    shadowed, plain, lms, grader, learner, lms_server, captured_events, stage
):
    with bridge_settings(QUEUES=QUEUES):
        stage(plain)
        off = run_scenario("shadowoff", lms, grader, learner, lms_server)
        assert Comparison.objects.count() == 0
        stage(shadowed)
        on = run_scenario("shadowon", lms, grader, learner, lms_server)

    without = observed("shadowoff", off, lms_server, captured_events)
    with_shadow = observed("shadowon", on, lms_server, captured_events)
    assert with_shadow == without
    # Not vacuous: the learners were served, and every reply of the shadow run was compared.
    assert len(without["learners"]) == len(SCENARIO)
    assert (len(without["callbacks"]) > 0) == (plain == "callback")
    assert (len(without["events"]) > 0) == (plain == "event")
    compared = Comparison.objects.filter(stage=shadowed)
    # All but a result whose delivery is still being retried (the LMS fails on "lots" points).
    assert compared.count() >= len(SCENARIO)
    assert not compared.filter(status="pending").exists()
    assert compared.filter(status="mismatched").exists()


def test_candidate_dry_runs_write_nothing_to_the_learner_or_the_outbox(grade, captured_events, stage):
    from xqueue_bridge.models import Delivery
    from xqueue_bridge.shadow import experiment
    from xqueue_bridge.sink.models import LearnerUpdate

    stage("shadow_callback")
    grading, _ = grade(reply(score=0.5))
    comparison = Comparison.objects.get()
    before = (list(ProblemState.objects.values()), list(LearnerUpdate.objects.values()),
              list(Delivery.objects.values()), len(captured_events))

    # Conduct the comparison again, as a second process would: nothing outside the comparison changes.
    Comparison.objects.filter(pk=comparison.pk).update(status="pending")
    assert experiment.run(comparison.pk) == "mismatched"

    after = (list(ProblemState.objects.values()), list(LearnerUpdate.objects.values()),
             list(Delivery.objects.values()), len(captured_events))
    assert after == before
    assert captured_events == []
    assert ProblemState.objects.get(usage_key=grading.submission.usage_key).course_id == COURSE
