"""The LMS's quoting of usage keys in callback URLs."""

from __future__ import annotations

import pytest

from xqueue_bridge.keys import quote_slashes, unquote_slashes


@pytest.mark.parametrize(
    ("key", "quoted"),
    [
        ("block-v1:Org+C+R+type@problem+block@abc", "block-v1:Org+C+R+type@problem+block@abc"),
        ("i4x://Org/C/problem/abc", "i4x:;_;_Org;_C;_problem;_abc"),
        ("a;b", "a;;b"),
        (";_", ";;_"),
        ("/;/", ";_;;;_"),
    ],
)
def test_quote_and_unquote_are_inverse(key, quoted):
    assert quote_slashes(key) == quoted
    assert unquote_slashes(quoted) == key


def test_a_lone_semicolon_is_kept_when_unquoting():
    assert unquote_slashes("a;b;") == "a;b;"
