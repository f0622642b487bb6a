"""
Every account only what its role needs: the LMS role submits, the grader role pulls and answers (every
queue, or the queues it is given), and an account still only in the legacy ``xqueue`` group keeps every
role until the operator assigns one, with a system check saying so. A refusal is HTTP 403 with the reason
in the XQueue envelope, and changes nothing.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.support.accounts import GRADER_PASSWORD, GRADER_USER, LMS_PASSWORD, LMS_USER
from tests.support.config import bridge_settings
from tests.support.grading import REPLY, Queue
from xqueue_bridge import roles
from xqueue_bridge.apps import check_legacy_accounts
from xqueue_bridge.management.commands.users import ensure_user
from xqueue_bridge.models import Submission
from xqueue_bridge.runtime.clients import GraderClient, LmsClient, make_body, make_header


def test_a_grader_cannot_supersede_a_learners_live_submission(bridge_url, lms_server):
    """Finding 1: a grader account POSTing submit with a victim's callback URL used to wipe the grade."""
    lms = LmsClient(bridge_url, LMS_USER, LMS_PASSWORD)
    victim_url = lms_server.callback_url(user_id=41, block="victim")
    lms_server.expect("victim-key")
    assert lms.submit(make_header(victim_url, "victim-key", "test-pull"), make_body("answer", "anon-41"))[0] == 0
    honest = GraderClient(bridge_url, GRADER_USER, GRADER_PASSWORD)
    served = honest.get_submission("test-pull")

    attacker = GraderClient(bridge_url, GRADER_USER, GRADER_PASSWORD)
    assert attacker.login()
    response = attacker.session.post(
        f"{bridge_url}/xqueue/submit/",
        data={"xqueue_header": make_header(victim_url, "attacker-key", "test-pull"),
              "xqueue_body": make_body("fake", "anon-41")},
        allow_redirects=False,
    )

    assert response.status_code == 403
    assert response.json() == {
        "return_code": 1,
        "content": "User 'grader' has the grader role; submit needs the lms role (an operator assigns roles "
                   "with `xqueue-bridge users --role grader=lms`)",
    }
    assert list(Submission.objects.values_list("lms_key", "status")) == [("victim-key", "pulled")]
    assert honest.put_result(served["xqueue_header"], json.dumps(REPLY)) == (True, "")
    assert lms_server.updates["victim-key"] == [json.dumps(REPLY)]


def test_the_lms_account_cannot_pull_answer_or_count_and_a_watcher_gives_up_after_one_login(bridge_url, queue):
    submission = queue.submit()
    as_grader = GraderClient(bridge_url, LMS_USER, LMS_PASSWORD)
    assert as_grader.login()
    logins = []
    original_login = as_grader.login
    as_grader.login = lambda: logins.append(1) or original_login()

    raw = as_grader.session.get(f"{bridge_url}/xqueue/get_submission/", params={"queue_name": "test-pull"},
                                allow_redirects=False)
    assert raw.status_code == 403
    assert raw.json()["content"] == ("User 'lms' has the lms role; get_submission needs the grader role (an "
                                     "operator assigns roles with `xqueue-bridge users --role lms=grader`)")
    assert as_grader.get_submission("test-pull") is None  # re-logs in once, is refused again, gives up
    assert len(logins) == 1
    assert as_grader.get_queuelen("test-pull")[0] is False
    header = json.dumps({"submission_id": submission.pk, "submission_key": "guess"})
    put = as_grader.session.post(f"{bridge_url}/xqueue/put_result/",
                                 data={"xqueue_header": header, "xqueue_body": json.dumps(REPLY)})
    assert put.status_code == 403 and "put_result needs the grader role" in put.json()["content"]
    submission.refresh_from_db()
    assert (submission.status, submission.pull_count) == ("queued", 0)


def test_a_grader_given_some_queues_pulls_and_answers_only_those(bridge_url, queue, lms_server):
    ensure_user("python-only", "python-pw", role="grader", queues=["python-grader"])
    other = queue.submit()  # in test-pull
    grader = GraderClient(bridge_url, "python-only", "python-pw")
    assert grader.login()

    refused = grader.session.get(f"{bridge_url}/xqueue/get_submission/", params={"queue_name": "test-pull"},
                                 allow_redirects=False)
    assert refused.status_code == 403
    assert refused.json()["content"] == (
        "User 'python-only' may grade queue python-grader, not 'test-pull' (an operator gives it more "
        "with `xqueue-bridge users --queues python-only=python-grader,test-pull`)"
    )
    counted = grader.session.get(f"{bridge_url}/xqueue/get_queuelen/", params={"queue_name": "test-pull"},
                                 allow_redirects=False)
    assert counted.status_code == 403

    # Even holding another queue's pullkey (served to an all-queues grader), it cannot answer for it.
    full = GraderClient(bridge_url, GRADER_USER, GRADER_PASSWORD)
    served = full.get_submission("test-pull")
    put = grader.session.post(f"{bridge_url}/xqueue/put_result/",
                              data={"xqueue_header": served["xqueue_header"], "xqueue_body": json.dumps(REPLY)},
                              allow_redirects=False)
    assert put.status_code == 403 and "not 'test-pull'" in put.json()["content"]
    other.refresh_from_db()
    assert (other.status, other.grader_reply) == ("pulled", "")

    python = Queue(lms_server, "python-grader").submit()
    served = grader.get_submission("python-grader")
    assert json.loads(served["xqueue_header"])["submission_id"] == python.pk
    assert grader.put_result(served["xqueue_header"], json.dumps(REPLY)) == (True, "")


def test_an_account_only_in_the_legacy_group_keeps_every_role_until_one_is_assigned(bridge_url, lms_server):
    ensure_user("old-lms", "old-pw")  # what `xqueue-bridge users --user` made before roles
    [warning] = check_legacy_accounts(databases=["default"])
    assert warning.id == "xqueue_bridge.W002"
    assert "old-lms" in warning.msg and "--role old-lms=lms" in warning.hint

    old = LmsClient(bridge_url, "old-lms", "old-pw")
    lms_server.expect("legacy-key")
    header = make_header(lms_server.callback_url(user_id=5, block="legacy"), "legacy-key", "test-pull")
    assert old.submit(header, make_body("answer", "anon-5")) == (0, "1")
    as_grader = GraderClient(bridge_url, "old-lms", "old-pw")
    assert as_grader.get_submission("test-pull") is not None  # a legacy account may still do both

    out = StringIO()
    call_command("users", "--role", "old-lms=lms", stdout=out)
    assert out.getvalue() == "old-lms: lms\n"
    assert check_legacy_accounts(databases=["default"]) == []
    refused = requests.Session()
    refused.post(f"{bridge_url}/xqueue/login/", data={"username": "old-lms", "password": "old-pw"})
    response = refused.get(f"{bridge_url}/xqueue/get_submission/", params={"queue_name": "test-pull"},
                           allow_redirects=False)
    assert response.status_code == 403
    assert not get_user_model().objects.filter(username="old-lms", groups__name="xqueue").exists()


def test_the_legacy_check_is_silent_without_legacy_accounts_and_ignores_inactive_ones(transactional_db):
    ensure_user("gone", "pw")
    get_user_model().objects.filter(username="gone").update(is_active=False)
    assert check_legacy_accounts(databases=["default"]) == []
    assert check_legacy_accounts(databases=None) == []  # run only where the database may be read


def test_roles_are_groups_an_operator_can_assign_in_the_admin(bridge_url):
    admin = get_user_model().objects.create_superuser("ops", password="ops-pw")
    session = requests.Session()
    login = f"{bridge_url}/admin/login/"
    session.get(login)
    session.post(login, data={"username": "ops", "password": "ops-pw", "next": "/admin/"},
                 headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": login})
    page = session.get(f"{bridge_url}/admin/auth/user/")
    assert page.status_code == 200
    assert "XQueue roles" in page.text and "grader (every queue)" in page.text
    assert {"xqueue-lms", "xqueue-grader", "xqueue-grader:test-pull"} <= set(
        Group.objects.values_list("name", flat=True)
    )
    assert admin.is_staff  # staff operate; no XQueue role makes an account staff
    assert not get_user_model().objects.get(username=GRADER_USER).is_staff


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(roles.time, "monotonic", lambda: now[0])
    return now


def test_roles_are_read_once_per_ttl_and_one_removed_by_another_process_ends_within_it(transactional_db, clock):
    ensure_user("cached", "pw", role="grader")
    user = get_user_model().objects.get(username="cached")
    with bridge_settings(ROLE_CACHE_TTL=5):
        assert roles.cached_access_of(user).grader
        with CaptureQueriesContext(connection) as reads:
            assert roles.cached_access_of(user).grader
        assert len(reads) == 0
        user.groups.through.objects.filter(user=user).delete()  # as another process would: no signal here
        clock[0] += 4.9
        assert roles.cached_access_of(user).grader  # within the bound the role is still held
        clock[0] += 0.2
        assert not roles.cached_access_of(user).any  # past it, it is gone
        with bridge_settings(ROLE_CACHE_TTL=0):
            ensure_user("cached", "pw", role="grader")
            with CaptureQueriesContext(connection) as reads:
                assert roles.cached_access_of(user).grader
            assert len(reads) == 1  # 0: read every time


def test_a_role_removed_in_this_process_or_a_deactivated_account_is_refused_at_once(bridge_url, clock):
    grader = GraderClient(bridge_url, GRADER_USER, GRADER_PASSWORD)
    assert grader.login()
    url = f"{bridge_url}/xqueue/get_queuelen/"
    assert grader.session.get(url, params={"queue_name": "test-pull"}).status_code == 200
    call_command("users", "--role", f"{GRADER_USER}=lms", stdout=StringIO())
    assert grader.session.get(url, params={"queue_name": "test-pull"}, allow_redirects=False).status_code == 403

    call_command("users", "--role", f"{GRADER_USER}=grader", stdout=StringIO())
    assert grader.session.get(url, params={"queue_name": "test-pull"}).status_code == 200
    get_user_model().objects.filter(username=GRADER_USER).update(is_active=False)  # no signal: a queryset update
    response = grader.session.get(url, params={"queue_name": "test-pull"}, allow_redirects=False)
    assert response.status_code != 200
