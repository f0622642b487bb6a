"""``xqueue-bridge users``: the LMS and grader accounts, created or updated in the xqueue group."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("users", *args, stdout=out)
    return out.getvalue()


def members() -> list[str]:
    return list(get_user_model().objects.filter(groups__name="xqueue").values_list("username", flat=True))


def test_accounts_from_options_and_settings_are_created_in_the_group_then_updated():
    with override_settings(XQUEUE_BRIDGE_USERS={"lms": "lms-secret"}):
        out = run("--user", "grader:grader-secret")
    assert out.splitlines() == ["created lms (group xqueue)", "created grader (group xqueue)"]
    assert sorted(members()) == ["grader", "lms"]
    assert authenticate(username="grader", password="grader-secret") is not None

    get_user_model().objects.filter(username="grader").update(is_active=False)
    assert run("--user", "grader:new:secret") == "updated grader (group xqueue)\n"
    assert authenticate(username="grader", password="grader-secret") is None
    assert authenticate(username="grader", password="new:secret") is not None  # active again, new password
    assert run("--list") == "grader\nlms\n"


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("grader", "--user 'grader'...: expected NAME:PASSWORD with both parts non-empty"),
        ("grader:", "--user 'grader'...: expected NAME:PASSWORD with both parts non-empty"),
        (":secret", "--user ''...: expected NAME:PASSWORD with both parts non-empty"),
    ],
)
def test_a_malformed_account_is_refused_and_nothing_is_written(option, message):
    with pytest.raises(CommandError) as refused:
        run("--user", "lms:lms-secret", "--user", option)
    assert str(refused.value) == message
    assert "secret" not in str(refused.value)
    assert not get_user_model().objects.exists()


def test_no_accounts_at_all_says_where_to_give_them():
    with override_settings(XQUEUE_BRIDGE_USERS={}):
        with pytest.raises(CommandError, match="set XQUEUE_BRIDGE_USERS or pass"):
            run()
    assert not get_user_model().objects.exists()
