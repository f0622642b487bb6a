"""What a comparison keeps (diff and digests unless STORE_FULL_VALUES), and the purge of old ones."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from tests.support.config import bridge_settings
from tests.support.grading import reply
from tests.support.rows import make_comparison, only_comparison
from xqueue_bridge.shadow import experiment
from xqueue_bridge.shadow.models import Comparison
from xqueue_bridge.shadow.report import purge

LEARNER_CODE = "def double(x): return x  # by learner Jane Q. Example"


def stored_text(comparison: Comparison) -> str:
    """Every value the row keeps, as one string."""
    row = Comparison.objects.filter(pk=comparison.pk).values().get()
    return json.dumps(row, default=str)


@pytest.mark.django_db(transaction=True)
def test_by_default_a_comparison_keeps_the_diff_and_digests_never_the_grader_text(grade, stage):
    stage("shadow_callback")
    grading, _ = grade(reply(score=0.5, msg=f"<pre>{LEARNER_CODE}</pre>"))
    invalid, _ = grade(f"<pre>{LEARNER_CODE}</pre>")  # not JSON: the feedback differs too

    for comparison in Comparison.objects.all():
        assert "Jane Q. Example" not in stored_text(comparison)
        assert comparison.control_values is None and comparison.candidate_values is None
        assert len(comparison.control_digest) == len(comparison.candidate_digest) == 64
    feedback = only_comparison(invalid.submission).diff["feedback"]
    assert feedback["control"].startswith("sha256:") and feedback["candidate"].startswith("sha256:")
    assert only_comparison(grading.submission).diff == {"points_earned": {"control": 0.5, "candidate": 0.0}}


@pytest.mark.django_db(transaction=True)
def test_full_values_are_kept_only_when_the_setting_allows(grade, stage):
    stage("shadow_callback")
    with bridge_settings(shadow={"STORE_FULL_VALUES": True}):
        invalid, _ = grade(f"<pre>{LEARNER_CODE}</pre>")

    comparison = only_comparison(invalid.submission)
    assert "Invalid grader reply" in comparison.diff["feedback"]["control"]
    assert comparison.control_values["correctness"] is None
    assert comparison.candidate_values["error"] == "unscorable_reply"
    assert "not JSON" in comparison.candidate_values["detail"]


@pytest.mark.django_db(transaction=True)
def test_a_refused_reply_is_kept_only_until_it_is_compared(grade, stage):
    stage("shadow_event")
    body = f"<pre>{LEARNER_CODE}</pre>"
    with bridge_settings(DELIVERY_MODE="worker"):
        refused, answer = grade(body)
        assert answer[0] is False
        comparison = only_comparison(refused.submission)
        assert (comparison.status, comparison.reply) == ("pending", body)
        experiment.drain()

    comparison.refresh_from_db()
    assert (comparison.status, comparison.reply) == ("mismatched", "")
    assert "Jane Q. Example" not in stored_text(comparison)


@pytest.mark.django_db
def test_purge_deletes_what_is_older_than_the_retention_period():
    old = make_comparison(hours_ago=24 * 40)
    recent = make_comparison(hours_ago=24 * 10)

    with bridge_settings(shadow={"RETENTION_DAYS": 30}):
        assert purge(dry_run=True) == 1
        assert Comparison.objects.count() == 2
        assert purge() == 1

    assert list(Comparison.objects.values_list("id", flat=True)) == [recent.pk]
    assert not Comparison.objects.filter(pk=old.pk).exists()


@pytest.mark.django_db
def test_purge_command_reports_what_it_deleted():
    make_comparison(hours_ago=24 * 40)
    make_comparison(hours_ago=24 * 10)

    out = io.StringIO()
    call_command("purge_comparisons", "--dry-run", stdout=out)
    call_command("purge_comparisons", stdout=out)
    call_command("purge_comparisons", "--days", "5", stdout=out)
    assert out.getvalue().splitlines() == [
        "1 comparisons older than 30 days would be deleted",
        "1 comparisons older than 30 days deleted",
        "1 comparisons older than 5 days deleted",
    ]
    assert Comparison.objects.count() == 0


@pytest.mark.django_db
def test_purge_refuses_a_negative_period():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="0 or more"):
        call_command("purge_comparisons", "--days", "-1")
