"""What an lms_callback_url means, and which ones are refused at submit time."""

from __future__ import annotations

import pytest
from django.test import override_settings

from xqueue_bridge.errors import CallbackNotAllowed, ConfigurationError
from xqueue_bridge.intake.callback_url import parse_callback_url
from xqueue_bridge.keys import quote_slashes, unquote_slashes

NEW_STYLE = (
    "http://127.0.0.1:8000/courses/course-v1:MITx+6.00x+2026_T1/xqueue/42/"
    "block-v1:MITx+6.00x+2026_T1+type@problem+block@ps1/score_update"
)


def test_new_style_keys_are_read_from_the_url():
    target = parse_callback_url(NEW_STYLE)
    assert target.course_id == "course-v1:MITx+6.00x+2026_T1"
    assert target.usage_key == "block-v1:MITx+6.00x+2026_T1+type@problem+block@ps1"
    assert target.user_id == "42" and target.dispatch == "score_update"
    assert target.url == NEW_STYLE


def test_old_style_keys_with_slashes_are_unquoted_the_lms_way():
    usage = "i4x://MITx/6.00x/problem/ps1"
    url = f"http://localhost:18000/courses/MITx/6.00x/2012_Fall/xqueue/5/{quote_slashes(usage)}/score_update"
    target = parse_callback_url(url)
    assert target.course_id == "MITx/6.00x/2012_Fall"
    assert target.usage_key.startswith("i4x://MITx/6.00x/problem/ps1")


def test_percent_encoded_segments_are_decoded():
    url = NEW_STYLE.replace("course-v1:MITx+6.00x", "course-v1%3AMITx%2B6.00x", 1)
    assert parse_callback_url(url).course_id == "course-v1:MITx+6.00x+2026_T1"


def test_a_url_prefix_before_courses_is_allowed():
    url = NEW_STYLE.replace("127.0.0.1:8000/", "127.0.0.1:8000/lms/")
    assert parse_callback_url(url).user_id == "42"


@pytest.mark.parametrize("text", ["a;b/c", ";_;;", "i4x://x/y/z", "plain"])
def test_slash_quoting_round_trips(text):
    assert unquote_slashes(quote_slashes(text)) == text
    assert "/" not in quote_slashes(text)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "non-empty string"),
        ("not a url", "scheme"),
        ("ftp://127.0.0.1/courses/x", "scheme 'ftp' is not allowed"),
        ("file:///etc/passwd", "scheme 'file' is not allowed"),
        ("gopher://127.0.0.1:70/_x", "scheme 'gopher'"),
        ("http://127.0.0.2:8000/courses/course-v1:A+B+C/xqueue/1/x/score_update", "not an allowed LMS origin"),
        ("https://127.0.0.1:8000/courses/course-v1:A+B+C/xqueue/1/x/score_update", "not an allowed LMS origin"),
        ("http://user:pw@127.0.0.1:8000/courses/a/xqueue/1/b/score_update", "credentials"),
        ("http://127.0.0.1:99999/courses/a/xqueue/1/b/score_update", "not a URL"),
        ("http://127.0.0.1:8000/somewhere/else", "shape"),
        (NEW_STYLE.replace("/42/", "/abc/"), "numeric user id"),
        (NEW_STYLE.replace("score_update", "delete_everything"), "dispatch"),
        (NEW_STYLE.replace("course-v1:MITx+6.00x+2026_T1/", "not-a-course/", 1), "not a valid course key"),
        (NEW_STYLE.replace("block-v1:MITx+6.00x+2026_T1+type@problem+block@ps1", "nonsense"), "not a valid usage key"),
        (NEW_STYLE.replace("block-v1:MITx+6.00x+2026_T1", "block-v1:Other+X+Y"), "belongs to course"),
        (NEW_STYLE.replace("/xqueue/", "/xqueue /"), "whitespace"),
    ],
)
def test_bad_callback_urls_are_refused_with_the_reason(url, message):
    with pytest.raises(CallbackNotAllowed) as refused:
        parse_callback_url(url)
    assert message in refused.value.message


def test_origin_rules_with_fixed_ports_and_https():
    with override_settings(XQUEUE_BRIDGE={"ALLOWED_CALLBACK_ORIGINS": ["https://lms.example.test", "http://127.0.0.1:8000"]}):
        assert parse_callback_url(NEW_STYLE).user_id == "42"
        assert parse_callback_url(NEW_STYLE.replace("http://127.0.0.1:8000", "https://LMS.example.test")).user_id
        with pytest.raises(CallbackNotAllowed):
            parse_callback_url(NEW_STYLE.replace(":8000", ":8001"))
        with pytest.raises(CallbackNotAllowed):
            parse_callback_url(NEW_STYLE.replace("http://127.0.0.1:8000", "https://lms.example.test:8443"))


def test_no_allowed_origins_refuses_every_callback():
    with override_settings(XQUEUE_BRIDGE={"ALLOWED_CALLBACK_ORIGINS": []}):
        with pytest.raises(CallbackNotAllowed, match="none configured"):
            parse_callback_url(NEW_STYLE)


def test_a_malformed_origin_rule_is_a_configuration_error():
    with override_settings(XQUEUE_BRIDGE={"ALLOWED_CALLBACK_ORIGINS": ["127.0.0.1:8000"]}):
        with pytest.raises(ConfigurationError, match="scheme://host"):
            parse_callback_url(NEW_STYLE)
