"""
No request forgery through the queue: a callback URL is checked when the LMS submits (scheme, host, port
against ALLOWED_CALLBACK_ORIGINS), a URL whose host different parsers read differently is refused, and
redirects from the LMS are not followed. Forbidden targets here are other schemes and loopback addresses
outside the allowed ones (127.0.0.2 while only 127.0.0.1 and localhost are allowed).
"""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from tests.support.accounts import LMS_PASSWORD, LMS_USER
from tests.support.config import bridge_settings
from tests.support.grading import REPLY, run_loop
from tests.support.lms import FakeLms, Fault, callback_url
from tests.support.waiting import wait_for
from xqueue_bridge.errors import CallbackNotAllowed
from xqueue_bridge.intake.callback_url import parse_callback_url
from xqueue_bridge.models import Delivery, Submission
from xqueue_bridge.runtime.clients import make_body, make_header

PATH = callback_url("", block="p1")


@pytest.fixture
def forbidden_listener():
    """A real server on 127.0.0.2, outside the allowed origins: it must never hear from the bridge."""
    server = FakeLms(host="127.0.0.2")
    yield server
    server.close()


def submit_raw(bridge_url: str, url: str) -> requests.Response:
    session = requests.Session()
    session.post(f"{bridge_url}/xqueue/login/", data={"username": LMS_USER, "password": LMS_PASSWORD})
    return session.post(f"{bridge_url}/xqueue/submit/", data={
        "xqueue_header": make_header(url, "lms-key-ssrf", "test-pull"),
        "xqueue_body": make_body("answer", "anon-1"),
    })


def forbidden_urls(port: int) -> dict[str, str]:
    return {
        "another loopback address": f"http://127.0.0.2:{port}{PATH}",
        "credentials before an allowed host": f"http://127.0.0.1@127.0.0.2:{port}{PATH}",
        "an allowed host as user name": f"http://127.0.0.1:{port}@127.0.0.2:{port}{PATH}",
        "a backslash before @": f"http://127.0.0.2:{port}\\@127.0.0.1:{port}{PATH}",
        "an encoded slash before @": f"http://127.0.0.1%2f@127.0.0.2:{port}{PATH}",
        "a decimal address": f"http://2130706434:{port}{PATH}",
        "a hexadecimal address": f"http://0x7f000002:{port}{PATH}",
        "a short address": f"http://127.2:{port}{PATH}",
        "an IPv4-mapped IPv6 address": f"http://[::ffff:127.0.0.2]:{port}{PATH}",
        "a trailing dot": f"http://127.0.0.2.:{port}{PATH}",
        "file scheme": f"file:///etc/passwd{PATH}",
        "ftp scheme": f"ftp://127.0.0.1:{port}{PATH}",
        "gopher scheme": f"gopher://127.0.0.1:{port}/_POST",
        "javascript scheme": "javascript:alert(1)",
        "no scheme": f"//127.0.0.1:{port}{PATH}",
        "scheme without slashes": f"http:127.0.0.1:{port}{PATH}",
        "a tab in the host": f"http://127.0.0.1\t.evil:{port}{PATH}",
        "a newline (header injection)": f"http://127.0.0.1:{port}{PATH}\r\nX-Injected: 1",
    }


def test_each_forbidden_callback_target_is_refused_at_submit_and_never_called(bridge_url, forbidden_listener):
    for name, url in forbidden_urls(forbidden_listener.port).items():
        response = submit_raw(bridge_url, url)
        assert response.status_code == 400, name
        body = response.json()
        assert body["return_code"] == 1 and body["content"].startswith("lms_callback_url"), (name, body)
    assert Submission.objects.count() == 0
    assert forbidden_listener.calls == []


def test_the_refusal_says_what_is_allowed(bridge_url, forbidden_listener):
    content = submit_raw(bridge_url, forbidden_listener.callback_url()).json()["content"]
    assert content == (
        f"lms_callback_url origin http://127.0.0.2:{forbidden_listener.port} is not an allowed LMS origin; "
        "allowed: http://127.0.0.1:*, http://localhost:*"
    )


def test_an_origin_rule_with_a_port_allows_only_that_port(transactional_db, lms_server):
    with bridge_settings(ALLOWED_CALLBACK_ORIGINS=[f"http://127.0.0.1:{lms_server.port}"]):
        url = lms_server.callback_url()
        assert parse_callback_url(url).url == url
        with pytest.raises(CallbackNotAllowed, match="not an allowed LMS origin"):
            parse_callback_url(url.replace(str(lms_server.port), str(lms_server.port + 1)))
        with pytest.raises(CallbackNotAllowed, match="not an allowed LMS origin"):
            parse_callback_url(url.replace("http://", "https://"))


def test_with_no_origin_configured_every_callback_is_refused(transactional_db, lms_server):
    with bridge_settings(ALLOWED_CALLBACK_ORIGINS=[]):
        with pytest.raises(CallbackNotAllowed, match=r"\(none configured: set ALLOWED_CALLBACK_ORIGINS\)"):
            parse_callback_url(lms_server.callback_url())


def test_a_redirect_to_a_forbidden_target_is_not_followed(serving, lms_server, forbidden_listener):
    lms_server.fault_for = lambda key: Fault("status", status=307, location=forbidden_listener.callback_url())
    run_loop(serving, lms_server, 3)
    assert wait_for(lambda: not Delivery.objects.filter(attempts__lt=2).exists())
    assert forbidden_listener.calls == []
    assert set(Delivery.objects.values_list("last_error", flat=True)) == {"LMS answered HTTP 307"}


# --- the same property for any URL ----------------------------------------------------------------------

SCHEMES = st.sampled_from(["http://", "HTTP://", "https://", "http:", "http:/", "http:\\\\", "//", "", "ftp://"])
AUTHORITY_PIECES = st.sampled_from([
    "127.0.0.1", "127.0.0.2", "localhost", "evil.example", "@", ":", ":80", ":8000", ":*", "\\", "/", "#", "?",
    ";", "%2f", "%40", "%5c", "%00", "[", "]", "::1", "::ffff:127.0.0.2", ".", "\u3002", "\uff0e", "\t", " ",
    "user", "1", "0x7f", "xn--",
])
JUNK = st.just("") | st.lists(AUTHORITY_PIECES, min_size=1, max_size=3).map("".join)
URLS = (
    st.builds(lambda scheme, before, host, after, port, path: scheme + before + host + after + port + path,
              st.just("http://") | SCHEMES, JUNK, st.sampled_from(["127.0.0.1", "127.0.0.2", "localhost"]), JUNK,
              st.sampled_from(["", ":80", ":8000", ":0"]), st.sampled_from([PATH, PATH + "/", ""]))
    | st.text(max_size=80)
)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(url=URLS)
def test_any_url_accepted_is_one_the_client_sends_to_an_allowed_origin(url):
    with bridge_settings(ALLOWED_CALLBACK_ORIGINS=["http://127.0.0.1:*"]):
        try:
            target = parse_callback_url(url)
        except CallbackNotAllowed:
            return
    client_view = parse_url(target.url)
    assert (client_view.scheme.lower(), client_view.host) == ("http", "127.0.0.1")
    prepared = requests.Request("POST", target.url, data={"a": "b"}).prepare()
    assert parse_url(prepared.url).host == "127.0.0.1"


@pytest.mark.slow
def test_the_url_property_is_checked_on_accepted_urls_too():
    """The strategy above reaches accepted URLs, so the property is not only ever vacuous."""
    accepted = []

    @settings(max_examples=300, deadline=None, database=None)
    @given(url=URLS)
    def collect(url):
        with bridge_settings(ALLOWED_CALLBACK_ORIGINS=["http://127.0.0.1:*"]):
            try:
                accepted.append(parse_callback_url(url).url)
            except CallbackNotAllowed:
                pass

    collect()
    assert accepted


def test_graders_never_see_the_lms_key_or_the_callback_url(queue, lms_server):
    submission = queue.submit()
    served = queue.pull()
    from xqueue_bridge.intake.queue_api import grader_payload

    payload = json.dumps(grader_payload(served, lambda path: path))
    assert submission.lms_key not in payload and "xqueue/" not in payload and str(lms_server.port) not in payload
    assert queue.reply(served, REPLY).accepted
