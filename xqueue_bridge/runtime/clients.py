"""
HTTP clients that speak XQueue the way the real ones do, for the demo, the tests and the benchmarks.

``LmsClient`` behaves as the LMS's ``XQueueInterface``: a plain session, redirects followed, no CSRF
token, (3.05 s, 10 s) timeouts, any non-200 an error, and a login then one resend when a 200 reply says
``login_required``. ``GraderClient`` behaves as xqueue-watcher: GET ``login`` for the CSRF cookie, POST
the credentials with ``X-CSRFToken`` and ``Referer``, never follow redirects, log in again once on
301/302/401/403, and post the header exactly as it was served.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from xqueue_bridge.errors import XQueueReplyError

CONNECT_TIMEOUT, READ_TIMEOUT = 3.05, 10.0


def _envelope(response: requests.Response) -> tuple[int, Any]:
    try:
        body = response.json()
        return body["return_code"], body["content"]
    except (ValueError, KeyError, TypeError):
        raise XQueueReplyError(f"HTTP {response.status_code}: not an XQueue reply: {response.text[:200]!r}")


class LmsClient:
    """Submits learner answers as the LMS does."""

    def __init__(self, base_url: str, username: str, password: str, basic_auth: tuple[str, str] | None = None):
        self.base_url = base_url.rstrip("/")
        self.username, self.password = username, password
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.auth = basic_auth

    def _post(self, path: str, data: dict, files: dict | None = None) -> tuple[int, Any]:
        try:
            response = self.session.post(
                self.base_url + path, data=data, files=files, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
            )
        except requests.ConnectionError:
            return 1, "cannot connect to server"
        except requests.ReadTimeout:
            return 1, "failed to read from the server"
        if response.status_code != 200:
            return 1, f"unexpected HTTP status code [{response.status_code}]"
        return _envelope(response)

    def login(self) -> tuple[int, Any]:
        return self._post("/xqueue/login/", {"username": self.username, "password": self.password})

    def submit(self, xqueue_header: str, xqueue_body: str, files: dict | None = None,
               extra: dict | None = None) -> tuple[int, Any]:
        data = {"xqueue_header": xqueue_header, "xqueue_body": xqueue_body, **(extra or {})}
        code, content = self._post("/xqueue/submit/", data, files)
        if code and content == "login_required":
            code, content = self.login()
            if code:
                return code, content
            for upload in (files or {}).values():
                upload.seek(0)
            code, content = self._post("/xqueue/submit/", data, files)
        return code, content


def make_header(lms_callback_url: str, lms_key: str, queue_name: str) -> str:
    """The LMS's submit header (``make_xheader``)."""
    return json.dumps({"lms_callback_url": lms_callback_url, "lms_key": lms_key, "queue_name": queue_name})


def make_body(student_response: str, anonymous_student_id: str, grader_payload: str = "",
              submission_time: str = "20261125120000", random_seed: int = 1) -> str:
    """The LMS's submit body: ``student_info`` is itself a JSON string."""
    student_info = json.dumps({
        "anonymous_student_id": anonymous_student_id, "submission_time": submission_time, "random_seed": random_seed,
    })
    return json.dumps({
        "grader_payload": grader_payload, "student_info": student_info, "student_response": student_response,
    })


class GraderClient:
    """Pulls submissions and posts results as xqueue-watcher does."""

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.username, self.password = username, password
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False

    def login(self) -> bool:
        url = self.base_url + "/xqueue/login/"
        self.session.cookies.clear()
        self.session.headers.pop("X-CSRFToken", None)
        self.session.get(url, timeout=self.timeout)
        headers = {"Referer": url}
        token = self.session.cookies.get("csrftoken")
        if token:
            headers["X-CSRFToken"] = token
        response = self.session.post(
            url, data={"username": self.username, "password": self.password}, headers=headers, timeout=self.timeout
        )
        if response.status_code != 200:
            return False
        token = self.session.cookies.get("csrftoken")
        self.session.headers["Referer"] = self.base_url
        if token:
            self.session.headers["X-CSRFToken"] = token
        return _envelope(response)[0] == 0

    def _request(self, method: str, path: str, **kwargs) -> tuple[bool, Any]:
        relogged = False
        while True:
            response = self.session.request(
                method, self.base_url + path, allow_redirects=False, timeout=self.timeout, **kwargs
            )
            if response.status_code == 200:
                code, content = _envelope(response)
                return code == 0, content
            if response.status_code in (301, 302, 401, 403) and not relogged:
                relogged = True
                if self.login():
                    continue
                return False, "Could not log in"
            try:
                return False, _envelope(response)[1]
            except XQueueReplyError:
                return False, f"HTTP {response.status_code}"

    def get_queuelen(self, queue_name: str) -> tuple[bool, Any]:
        return self._request("get", "/xqueue/get_queuelen/", params={"queue_name": queue_name})

    def get_submission(self, queue_name: str) -> dict | None:
        """The served submission (``xqueue_header`` kept as the string it was), or None if the queue is empty."""
        ok, content = self._request("get", "/xqueue/get_submission/", params={"queue_name": queue_name})
        return json.loads(content) if ok else None

    def put_result(self, xqueue_header: str, reply: dict | str) -> tuple[bool, Any]:
        body = reply if isinstance(reply, str) else json.dumps(reply)
        return self._request("post", "/xqueue/put_result/", data={"xqueue_header": xqueue_header, "xqueue_body": body})
