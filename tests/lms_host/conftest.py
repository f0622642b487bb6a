"""
Fixtures of the host's suite: the LMS-shaped project served on loopback (its xqueue_callback and the
plugin's XQueue API), an LMS client and a grader that speak XQueue as the LMS and xqueue-watcher do, and
learners whose problems wait for a result.
"""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Group, User

from tests.lms_host.courseware import handlers
from tests.lms_host.courseware.models import ProblemState
from xqueue_bridge.runtime.clients import GraderClient, LmsClient, make_body, make_header

PREFIX = "/xqueue-bridge"  # PLUGIN_URL_PREFIX's default
QUEUE = "python-grader"
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def receiver_recovers():
    handlers.FAILURES["remaining"] = 0
    yield
    handlers.FAILURES["remaining"] = 0


@pytest.fixture
def lms_url(live_server, transactional_db) -> str:
    group, _ = Group.objects.get_or_create(name="xqueue")
    for name in ("lms", "grader"):
        user = User.objects.create_user(name, password=f"{name}-password")
        user.groups.add(group)
    return live_server.url


@pytest.fixture
def lms(lms_url) -> LmsClient:
    return LmsClient(lms_url + PREFIX, "lms", "lms-password")


@pytest.fixture
def grader(lms_url) -> GraderClient:
    client = GraderClient(lms_url + PREFIX, "grader", "grader-password")
    assert client.login()
    return client


class Learner:
    """One learner's problem in the host: its state waits for a result, as the LMS records it on submit."""

    def __init__(self, lms_url: str, course_id: str):
        number = next(_numbers)
        self.course_id = course_id
        self.usage_key = f"block-v1:{course_id.removeprefix('course-v1:')}+type@problem+block@p{number}"
        self.user_id = 1000 + number
        self.anonymous_id = f"anon-{number}"
        self.callback_url = f"{lms_url}/courses/{course_id}/xqueue/{self.user_id}/{self.usage_key}/score_update"
        self.state = ProblemState.objects.create(
            course_id=course_id, usage_key=self.usage_key, user_id=self.user_id, anonymous_user_id=self.anonymous_id
        )

    def submit(self, lms: LmsClient, answer: str = "print('hi')") -> str:
        """What the LMS does when the learner submits: a fresh queue key stored, then the XQueue submit."""
        key = f"key-{self.user_id}-{next(_numbers)}"
        ProblemState.objects.filter(pk=self.state.pk).update(queuekey=key)
        header = make_header(self.callback_url, key, QUEUE)
        assert lms.submit(header, make_body(answer, self.anonymous_id, grader_payload="{}"))[0] == 0
        return key

    def problem(self) -> ProblemState:
        return ProblemState.objects.get(pk=self.state.pk)


@pytest.fixture
def learner(lms_url):
    return lambda course_id: Learner(lms_url, course_id)
