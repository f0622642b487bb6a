"""Sampling per course: all results, a deterministic share of them, or none; course beats org beats global."""

from __future__ import annotations

import pytest
from django.db import transaction

from tests.support.config import bridge_settings
from tests.support.grading import reply
from tests.support.lms import COURSE
from tests.support.rows import make_submission
from xqueue_bridge.errors import ConfigurationError
from xqueue_bridge.models import Submission
from xqueue_bridge.shadow import experiment, sampling
from xqueue_bridge.shadow.models import Comparison

OTHER_OF_ORG = "course-v1:BridgeX+Other+2026"
ELSEWHERE = "course-v1:ElsewhereU+Course+2026"


def submissions(course_id: str = COURSE, count: int = 1000) -> list[Submission]:
    return [Submission(pk=number, course_id=course_id) for number in range(1, count + 1)]


def test_a_quarter_samples_about_a_quarter_the_same_way_every_time():
    with bridge_settings(shadow={"SAMPLE_RATE": 0.25}):
        first = [sampling.sampled(submission) for submission in submissions()]
        again = [sampling.sampled(submission) for submission in submissions()]

    assert first == again
    assert 200 <= sum(first) <= 300


def test_all_and_none():
    with bridge_settings(shadow={"SAMPLE_RATE": 1.0}):
        assert all(sampling.sampled(submission) for submission in submissions(count=50))
    with bridge_settings(shadow={"SAMPLE_RATE": 0}):
        assert not any(sampling.sampled(submission) for submission in submissions(count=50))


def test_course_rate_beats_org_rate_beats_sample_rate():
    rates = {COURSE: 0.0, "BridgeX": 1.0}
    with bridge_settings(shadow={"SAMPLE_RATE": 0.5, "COURSE_SAMPLE_RATES": rates}):
        assert sampling.sample_rate(COURSE) == 0.0
        assert sampling.sample_rate(OTHER_OF_ORG) == 1.0
        assert sampling.sample_rate(ELSEWHERE) == 0.5
        assert not any(sampling.sampled(submission) for submission in submissions(COURSE, 50))
        assert all(sampling.sampled(submission) for submission in submissions(OTHER_OF_ORG, 50))


@pytest.mark.parametrize("rate", [1.5, -0.1, "half", None])
def test_a_rate_that_is_not_a_fraction_is_refused_with_the_setting_named(rate):
    with bridge_settings(shadow={"COURSE_SAMPLE_RATES": {COURSE: rate}}):
        with pytest.raises(ConfigurationError, match=r"COURSE_SAMPLE_RATES.*expected a fraction from 0 to 1"):
            sampling.sample_rate(COURSE)


@pytest.mark.django_db
def test_every_trigger_of_a_submission_is_sampled_alike():
    with bridge_settings(shadow={"SAMPLE_RATE": 0.5}):
        planned = []
        for _ in range(40):
            submission = make_submission(stage="shadow_callback")
            with transaction.atomic():
                result = experiment.plan(submission, Comparison.Trigger.RESULT)
                duplicate = experiment.plan(submission, Comparison.Trigger.DUPLICATE)
            assert bool(result) == bool(duplicate)
            planned.append(bool(result))
    assert 0 < sum(planned) < len(planned)


@pytest.mark.django_db(transaction=True)
def test_a_course_sampled_out_is_not_compared_while_its_neighbour_is(grade, stage):
    stage("shadow_callback", course=COURSE)
    stage("shadow_callback", course=OTHER_OF_ORG)
    with bridge_settings(shadow={"COURSE_SAMPLE_RATES": {COURSE: 0}}):
        out, answer = grade(reply(score=0.5))
        compared, _ = grade(reply(score=0.5), course_id=OTHER_OF_ORG)

    assert answer == (True, "")
    assert not Comparison.objects.filter(submission=out.submission).exists()
    assert Comparison.objects.get(submission=compared.submission).status == "mismatched"
