"""
Who may use the queue: LMS and grader accounts must be active members of the ``xqueue`` group, and the
CSRF habits of the real clients work (xqueue-watcher: cookie from GET login, then X-CSRFToken and Referer
on its POSTs; older watchers and the LMS: no token at all on the csrf-exempt XQueue endpoints).
"""

from __future__ import annotations

import json

import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tests.conftest import GRADER_PASSWORD, GRADER_USER
from tests.support.helpers import REPLY
from xqueue_bridge.runtime.clients import GraderClient


def test_an_account_outside_the_xqueue_group_cannot_log_in_and_learns_nothing_of_its_password(bridge_url, caplog):
    get_user_model().objects.create_user("stranger", password="stranger-password")
    right = requests.post(f"{bridge_url}/xqueue/login/", data={"username": "stranger", "password": "stranger-password"})
    wrong = requests.post(f"{bridge_url}/xqueue/login/", data={"username": "stranger", "password": "guess"})
    for response in (right, wrong):
        assert response.status_code == 401
        assert response.json() == {"return_code": 1, "content": "Incorrect login credentials"}
        assert "sessionid" not in response.cookies
    assert "account 'stranger' is not in the 'xqueue' group" in caplog.text  # the operator learns why


def test_a_grader_removed_from_the_group_loses_access_at_its_next_request(bridge_url, queue):
    grader = GraderClient(bridge_url, GRADER_USER, GRADER_PASSWORD)
    assert grader.login()
    queue.submit()
    get_user_model().objects.get(username=GRADER_USER).groups.remove(Group.objects.get(name="xqueue-grader"))
    response = grader.session.get(f"{bridge_url}/xqueue/get_submission/", params={"queue_name": "test-pull"},
                                  allow_redirects=False)
    assert response.status_code == 403
    assert "is not in the 'xqueue' group" in response.json()["content"]
    assert grader.get_submission("test-pull") is None  # the watcher logs in again once, is refused, gives up


def test_an_inactive_account_cannot_log_in(bridge_url):
    get_user_model().objects.filter(username=GRADER_USER).update(is_active=False)
    response = requests.post(f"{bridge_url}/xqueue/login/", data={"username": GRADER_USER, "password": GRADER_PASSWORD})
    assert response.status_code == 401
    assert response.json() == {"return_code": 1, "content": "Incorrect login credentials"}


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(bridge_url):
    wrong_password = requests.post(f"{bridge_url}/xqueue/login/", data={"username": GRADER_USER, "password": "nope"})
    unknown_user = requests.post(f"{bridge_url}/xqueue/login/", data={"username": "nobody", "password": "nope"})
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json() == unknown_user.json() == {"return_code": 1, "content": "Incorrect login credentials"}


def test_the_watcher_csrf_dance_works_end_to_end(bridge_url, queue):
    queue.submit()
    session = requests.Session()
    login_url = f"{bridge_url}/xqueue/login/"
    assert session.get(login_url).status_code == 200
    token = session.cookies["csrftoken"]
    logged_in = session.post(login_url, data={"username": GRADER_USER, "password": GRADER_PASSWORD},
                             headers={"X-CSRFToken": token, "Referer": login_url})
    assert logged_in.json() == {"return_code": 0, "content": "Logged in"}
    session.headers.update({"X-CSRFToken": session.cookies["csrftoken"], "Referer": bridge_url})
    served = json.loads(session.get(f"{bridge_url}/xqueue/get_submission/",
                                    params={"queue_name": "test-pull"}).json()["content"])
    put = session.post(f"{bridge_url}/xqueue/put_result/",
                       data={"xqueue_header": served["xqueue_header"], "xqueue_body": json.dumps(REPLY)})
    assert put.json() == {"return_code": 0, "content": ""}


def test_an_older_watcher_without_csrf_token_or_referer_still_works(bridge_url, queue):
    queue.submit()
    session = requests.Session()
    session.post(f"{bridge_url}/xqueue/login/", data={"username": GRADER_USER, "password": GRADER_PASSWORD})
    served = json.loads(session.get(f"{bridge_url}/xqueue/get_submission/",
                                    params={"queue_name": "test-pull"}).json()["content"])
    put = session.post(f"{bridge_url}/xqueue/put_result/",
                       data={"xqueue_header": served["xqueue_header"], "xqueue_body": json.dumps(REPLY)})
    assert put.json() == {"return_code": 0, "content": ""}


def test_a_queue_account_is_not_an_admin(bridge_url):
    grader = GraderClient(bridge_url, GRADER_USER, GRADER_PASSWORD)
    assert grader.login()
    response = grader.session.get(f"{bridge_url}/admin/xqueue_bridge/delivery/", allow_redirects=False)
    assert response.status_code == 302 and "/admin/login/" in response.headers["Location"]
