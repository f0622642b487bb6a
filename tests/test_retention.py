"""Finished submissions are purged with their deliveries and files after the retention period; live ones never."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.support.lms import HTTP_500, submission_for
from xqueue_bridge.models import Delivery, Submission

REPLY = json.dumps({"correct": True, "score": 1, "msg": "<p>ok</p>"})


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_submissions", *args, stdout=out)
    return out.getvalue()


def test_old_finished_submissions_go_with_their_files_and_live_ones_stay(lms, grader, lms_server, tmp_path):
    upload = tmp_path / "answer.py"
    upload.write_text("print(42)\n")
    with open(upload, "rb") as handle:
        header, body = submission_for(lms_server.callback_url(user_id=1))
        assert lms.submit(header, body, files={"answer.py": handle})[0] == 0
    served = grader.get_submission("test-pull")
    assert grader.put_result(served["xqueue_header"], REPLY) == (True, "")
    graded = Submission.objects.get()
    [stored] = graded.files.values()
    assert default_storage.exists(stored)
    header, body = submission_for(lms_server.callback_url(user_id=2))
    assert lms.submit(header, body)[0] == 0  # still waiting for a grader
    Submission.objects.update(created_at=timezone.now() - timedelta(days=100))

    assert purge("--days", "90", "--dry-run") == "1 finished submissions older than 90 days would be deleted\n"
    assert Submission.objects.count() == 2 and default_storage.exists(stored)
    assert purge("--days", "90") == "1 finished submissions older than 90 days deleted\n"
    assert list(Submission.objects.values_list("user_id", "status")) == [("2", "queued")]
    assert not Delivery.objects.exists() and not default_storage.exists(stored)


def test_a_graded_submission_with_a_pending_delivery_is_kept(lms, grader, lms_server):
    lms_server.fault_for = lambda key: HTTP_500  # the LMS is failing: the delivery waits for a retry
    header, body = submission_for(lms_server.callback_url(user_id=3))
    assert lms.submit(header, body)[0] == 0
    served = grader.get_submission("test-pull")
    assert grader.put_result(served["xqueue_header"], REPLY) == (True, "")
    assert Delivery.objects.get().status == "pending"
    Submission.objects.update(created_at=timezone.now() - timedelta(days=365))
    assert purge("--days", "1") == "0 finished submissions older than 1 days deleted\n"
    assert Submission.objects.count() == 1


@pytest.mark.django_db
def test_a_negative_period_is_refused():
    with pytest.raises(CommandError, match="negative"):
        purge("--days", "-1")
