"""The noise baseline: the authoritative path compared with itself, counted apart from the real comparison."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from tests.conftest import COURSE, set_stage, submission_for
from tests.shadow.conftest import bridge_settings, reply
from xqueue_bridge.shadow.models import Comparison
from xqueue_bridge.shadow.readiness import Thresholds, course_readiness

pytestmark = pytest.mark.django_db(transaction=True)


def test_noise_baseline_adds_a_self_comparison_that_matches_a_deterministic_path(grade):
    set_stage("shadow_callback")
    with bridge_settings(shadow={"NOISE_BASELINE": True}):
        grading, answer = grade(reply(score=0.5))

    assert answer == (True, "")
    real = Comparison.objects.get(submission=grading.submission, noise=False)
    noise = Comparison.objects.get(submission=grading.submission, noise=True)
    assert (real.candidate_path, real.status) == ("event", "mismatched")
    assert (noise.control_path, noise.candidate_path, noise.status) == ("callback", "callback", "matched")

    out = io.StringIO()
    call_command("shadow_report", "--format", "json", stdout=out)
    [group] = json.loads(out.getvalue())["groups"]
    assert (group["comparisons"], group["mismatched"]) == (1, 1)
    assert group["noise"] == {"comparisons": 1, "mismatched": 0, "mismatch_rate": 0.0}
    thresholds = Thresholds(min_comparisons=1, min_hours=0, max_mismatch_rate=1.0, max_error_rate=0.0)
    assert course_readiness(COURSE, "shadow_callback", thresholds).comparisons == 1


def test_noise_baseline_sees_the_authoritative_delivery_fail(lms, grader, recording_lms):
    set_stage("shadow_callback")
    recording_lms.status = 500
    header, body = submission_for(recording_lms.callback_url(), key="k-noise")
    with bridge_settings(shadow={"NOISE_BASELINE": True}, DELIVERY_RETRY={"max_attempts": 1}):
        lms.submit(header, body)
        served = grader.get_submission("test-pull")
        assert grader.put_result(served["xqueue_header"], reply()) == (True, "")

    noise = Comparison.objects.get(noise=True)
    assert noise.status == "mismatched"
    assert "error: delivery_failed" in noise.categories
    assert noise.diff["error"] == {"control": "delivery_failed", "candidate": None}
