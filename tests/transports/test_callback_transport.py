"""
The callback transport's HTTP client alone (``responses`` in place of the network): one POST with explicit
timeouts, TLS options and basic auth from the settings, no redirect followed, and HTTP 200 as the only
success. The loopback-server tests (tests/delivery, tests/test_xqueue_api.py) pin the same path end to end.
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import pytest
import requests
import responses

from tests.support.config import bridge_settings
from tests.support.lms import callback_url, submission_for
from xqueue_bridge.models import Submission
from xqueue_bridge.transports.callback import callback_request, post_callback

URL = callback_url("http://127.0.0.1:18000", block="transport")
TLS_URL = callback_url("https://127.0.0.1:18443", block="transport")
BODY = '{"correct": true, "score": 1.0, "msg": "<p>All tests passed</p>"}'


def submission(url: str = URL) -> Submission:
    """A submission as the intake recorded it (nothing of it is read from the database here)."""
    header, _ = submission_for(url, key="lms-key-transport")
    return Submission(lms_callback_url=url, xqueue_header=header)


@pytest.fixture
def network():
    """The network replaced: each test says what the LMS answers; a request to anywhere else fails."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_a_200_answer_is_a_delivery_of_the_lms_header_and_the_reply_verbatim(network):
    network.post(URL, status=200)
    sent = submission()

    result = post_callback(sent, BODY)

    assert (result.ok, result.error) == (True, None)
    [call] = network.calls
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(call.request.body) == {"xqueue_header": [sent.xqueue_header], "xqueue_body": [BODY]}


@pytest.mark.parametrize("status", [201, 202, 204, 400, 403, 404, 500, 502, 503])
def test_any_answer_but_200_is_a_retryable_failure_that_names_the_status(network, status):
    network.post(URL, status=status)

    result = post_callback(submission(), BODY)

    assert (result.ok, result.error, result.retryable) == (False, f"LMS answered HTTP {status}", True)
    assert len(network.calls) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed_and_is_a_failure(network, status):
    elsewhere = callback_url("http://127.0.0.1:18001", block="elsewhere")
    network.post(URL, status=status, headers={"Location": elsewhere})
    network.post(elsewhere, status=200)
    network.get(elsewhere, status=200)

    result = post_callback(submission(), BODY)

    assert (result.ok, result.error, result.retryable) == (False, f"LMS answered HTTP {status}", True)
    assert [call.request.url for call in network.calls] == [URL]


def test_a_read_timeout_is_a_retryable_failure_named_timeout(network):
    network.post(URL, body=requests.ReadTimeout("read timed out"))

    result = post_callback(submission(), BODY)

    assert (result.ok, result.error, result.retryable) == (False, "timeout: ReadTimeout", True)


def test_a_connect_timeout_is_a_retryable_failure_named_timeout(network):
    network.post(URL, body=requests.ConnectTimeout("connect timed out"))

    result = post_callback(submission(), BODY)

    assert (result.ok, result.error, result.retryable) == (False, "timeout: ConnectTimeout", True)


def test_a_refused_connection_is_a_retryable_connection_error(network):
    network.post(URL, body=requests.ConnectionError("connection refused"))

    result = post_callback(submission(), BODY)

    assert (result.ok, result.error, result.retryable) == (False, "connection error: ConnectionError", True)


def test_the_default_timeouts_are_explicit_connect_and_read_timeouts(network):
    network.post(URL, status=200)

    post_callback(submission(), BODY)

    assert callback_request(submission(), BODY)["timeout"] == (3.05, 10.0)
    assert network.calls[0].request.req_kwargs["timeout"] == (3.05, 10.0)


def test_the_timeouts_come_from_the_settings(network):
    network.post(URL, status=200)

    with bridge_settings(CALLBACK_CONNECT_TIMEOUT=0.5, CALLBACK_READ_TIMEOUT=2.5):
        assert callback_request(submission(), BODY)["timeout"] == (0.5, 2.5)
        post_callback(submission(), BODY)

    assert network.calls[0].request.req_kwargs["timeout"] == (0.5, 2.5)


def test_tls_is_verified_against_the_systems_cas_by_default(network):
    network.post(TLS_URL, status=200)

    with bridge_settings(ALLOWED_CALLBACK_ORIGINS=["https://127.0.0.1:*"]):
        assert callback_request(submission(TLS_URL), BODY)["verify"] is True
        assert post_callback(submission(TLS_URL), BODY).ok

    assert network.calls[0].request.req_kwargs["verify"] is True


def test_tls_is_verified_against_the_configured_ca_bundle(network, tmp_path):
    bundle = tmp_path / "internal-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    network.post(TLS_URL, status=200)

    with bridge_settings(ALLOWED_CALLBACK_ORIGINS=["https://127.0.0.1:*"], CALLBACK_VERIFY=str(bundle)):
        assert callback_request(submission(TLS_URL), BODY)["verify"] == str(bundle)
        assert post_callback(submission(TLS_URL), BODY).ok

    assert network.calls[0].request.req_kwargs["verify"] == str(bundle)


def test_basic_auth_is_sent_when_configured(network):
    network.post(URL, status=200)

    with bridge_settings(CALLBACK_BASIC_AUTH=["edge", "s3cret"]):
        assert callback_request(submission(), BODY)["auth"] == ("edge", "s3cret")
        assert post_callback(submission(), BODY).ok

    expected = "Basic " + base64.b64encode(b"edge:s3cret").decode()
    assert network.calls[0].request.headers["Authorization"] == expected


def test_no_authorization_header_is_sent_without_basic_auth(network):
    network.post(URL, status=200)

    assert callback_request(submission(), BODY)["auth"] is None
    assert post_callback(submission(), BODY).ok

    assert "Authorization" not in network.calls[0].request.headers


def test_a_url_no_longer_allowed_is_a_final_failure_and_sends_nothing(network):
    with bridge_settings(ALLOWED_CALLBACK_ORIGINS=["http://localhost:*"]):
        result = post_callback(submission(), BODY)

    assert (result.ok, result.retryable) == (False, False)
    assert result.error.startswith("lms_callback_url origin http://127.0.0.1:18000 is not an allowed LMS origin")
    assert len(network.calls) == 0
