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
    legacy = "every role (legacy 'xqueue' group; assign one with --role {0}=lms or --role {0}=grader)"
    assert run("--list") == f"grader: {legacy.format('grader')}\nlms: {legacy.format('lms')}\n"


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


def roles_of(username: str) -> list[str]:
    return sorted(get_user_model().objects.get(username=username).groups.values_list("name", flat=True))


def test_accounts_are_made_with_their_roles_and_listed_with_them():
    out = run("--lms", "lms:lms-secret", "--grader", "grader:grader-secret", "--grader", "py:py-secret",
              "--queues", "py=python-grader,other-queue")
    assert out.splitlines() == [
        "created lms: lms",
        "created grader: grader (every queue)",
        "created py: grader (queues other-queue, python-grader)",
    ]
    assert roles_of("lms") == ["xqueue-lms"]
    assert roles_of("grader") == ["xqueue-grader"]
    assert roles_of("py") == ["xqueue-grader:other-queue", "xqueue-grader:python-grader"]
    assert "secret" not in out
    run("--user", "old:old-secret")
    assert run("--list") == (
        "grader: grader (every queue)\n"
        "lms: lms\n"
        "old: every role (legacy 'xqueue' group; assign one with --role old=lms or --role old=grader)\n"
        "py: grader (queues other-queue, python-grader)\n"
    )


def test_roles_are_assigned_to_existing_accounts_without_touching_their_passwords():
    run("--user", "both:both-secret")
    assigned = run("--role", "both=lms", "--role", "both=grader", "--queues", "both=*")
    assert assigned == "both: lms, grader (every queue)\n"
    assert roles_of("both") == ["xqueue-grader", "xqueue-lms"]  # no longer in the legacy group
    assert authenticate(username="both", password="both-secret") is not None
    assert run("--role", "both=none") == "both: no role\n"
    assert roles_of("both") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "nobody=lms"], "--role nobody=lms: no account 'nobody'; create it with --lms or --grader"),
        (["--role", "lms=admin"], "--role lms=admin: expected NAME=lms, NAME=grader or NAME=none"),
        (["--queues", "lms=python-grader,nope"],
         "--queues lms=python-grader,nope: unknown queue 'nope'; valid queues: test-pull, python-grader, other-queue"),
        (["--queues", "lms"], "--queues 'lms': expected NAME=QUEUE[,QUEUE...] or NAME=*"),
    ],
)
def test_a_wrong_role_or_queue_is_refused_and_nothing_changes(args, message):
    run("--lms", "lms:lms-secret")
    with pytest.raises(CommandError) as refused:
        run(*args)
    assert str(refused.value) == message
    assert roles_of("lms") == ["xqueue-lms"]


def test_accounts_with_roles_from_the_setting():
    accounts = {"lms": {"password": "lms-secret", "role": "lms"},
                "py": {"password": "py-secret", "role": "grader", "queues": ["python-grader"]},
                "old": "old-secret"}
    with override_settings(XQUEUE_BRIDGE_USERS=accounts):
        out = run()
    assert out.splitlines() == [
        "created lms: lms",
        "created py: grader (queues python-grader)",
        "created old (group xqueue)",
    ]
    assert roles_of("py") == ["xqueue-grader:python-grader"]
