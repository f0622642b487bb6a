"""
Configuration is validated before anything is served: Django's system checks name each bad setting, and
``serve`` and ``worker`` refuse to start with the check's message. Every command turns a bad argument
into a one-line error and exit code 2, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.support.config import bridge_settings

BAD_SETTINGS = [
    ({"ALLOWED_CALLBACK_ORIGINS": ["ftp://lms.example.org"]}, "XQUEUE_BRIDGE['ALLOWED_CALLBACK_ORIGINS']"),
    ({"DELIVERY_MODE": "threads"}, "XQUEUE_BRIDGE['DELIVERY_MODE'] = 'threads': expected one of thread, sync"),
    ({"PULL_TIMEOUT": "abc"}, "XQUEUE_BRIDGE['PULL_TIMEOUT'] = 'abc': expected a number"),
    ({"QUEUES": []}, "XQUEUE_BRIDGE['QUEUES'] = []: expected a non-empty list"),
    ({"MAX_GRADING_ATTEMPTS": 0}, "XQUEUE_BRIDGE['MAX_GRADING_ATTEMPTS'] = 0: expected an integer of at least 1"),
    ({"POINTS_POSSIBLE": "{not json"}, "XQUEUE_BRIDGE['POINTS_POSSIBLE'] = '{not json': expected a dict"),
    ({"CALLBACK_VERIFY": False}, "expected True (the system's CAs) or the path of an existing CA bundle"),
    ({"RENDERER": "no.such.Renderer"}, "XQUEUE_BRIDGE['RENDERER'] = 'no.such.Renderer': cannot be imported"),
    ({"MAX_REPLY_BYTES": 30 * 1024 * 1024}, "above MAX_REQUEST_BYTES"),
    ({"DELIVERY_RETRY": {"max_age": -1}}, "XQUEUE_BRIDGE['DELIVERY_RETRY']"),
    ({"SHADOW": {"SAMPLE_RATE": 2}}, "XQUEUE_BRIDGE['SHADOW']['SAMPLE_RATE'] = 2: expected a fraction from 0 to 1"),
    ({"SHADOW": {"IGNORE_RULES": ["points_roundign"]}}, "names unknown rules 'points_roundign'"),
    ({"SHADOW": {"MAX_LAG": 0}}, "XQUEUE_BRIDGE['SHADOW']['MAX_LAG'] = 0: expected a number above 0, or None"),
    ({"SHADOW": {"MAX_LAG": 0.01}}, "at or below SHADOW['START_DELAY'] (0.05), so every comparison would be shed"),
    ({"READINESS": {"BLOCK_ON_RECORD_DIFFERENCES": "yes"}}, "['BLOCK_ON_RECORD_DIFFERENCES'] = 'yes': expected True"),
    ({"GUARDRAIL": {"ENABLED": True, "MAX_ERROR_RATE": "5%"}}, "['MAX_ERROR_RATE'] = '5%': expected a number"),
    ({"SWITCH_OFF": {"RECENT_DAYS": 0}}, "['RECENT_DAYS'] = 0: expected a number above 0"),
    ({"DELIVERY_MDOE": "sync"}, "XQUEUE_BRIDGE['DELIVERY_MDOE'] = 'sync': unknown setting"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_SETTINGS, ids=[next(iter(o)) for o, _ in BAD_SETTINGS])
def test_manage_check_refuses_each_bad_setting_with_what_is_expected(overrides, message):
    with bridge_settings(**overrides), pytest.raises(SystemCheckError) as refused:
        call_command("check")
    assert message in str(refused.value)


def test_the_configured_settings_pass_the_checks():
    call_command("check")  # raises SystemCheckError on any error


def _bridge(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("XQUEUE_BRIDGE_")}
    environment.update({"DJANGO_SETTINGS_MODULE": "tests.settings", **env})
    return subprocess.run([sys.executable, "-m", "xqueue_bridge", *args], env=environment, capture_output=True,
                          text=True, timeout=120, cwd=os.getcwd())


@pytest.mark.parametrize("command", [("serve", "--no-migrate", "--port", "1"), ("worker", "--once")])
def test_serve_and_worker_refuse_to_start_on_a_bad_setting(command, tmp_path):
    done = _bridge(
        *command, DJANGO_SETTINGS_MODULE="xqueue_bridge.runtime.settings", XQUEUE_BRIDGE_HOME=str(tmp_path),
        XQUEUE_BRIDGE_DELIVERY_MODE="threads", XQUEUE_BRIDGE_PULL_TIMEOUT="five",
    )

    assert done.returncode != 0
    assert "XQUEUE_BRIDGE['DELIVERY_MODE'] = 'threads': expected one of thread, sync, celery, worker" in done.stderr
    assert "XQUEUE_BRIDGE['PULL_TIMEOUT'] = 'five': expected a number" in done.stderr
    assert "Traceback" not in done.stderr


BAD_ARGUMENTS = [
    (("readiness", "--course", "nope"), "--course: 'nope' is not a course key"),
    (("readiness", "--since", "last tuesday"), "--since 'last tuesday': expected a duration"),
    (("shadow-report", "--org", "ed X"), "--org:"),
    (("rollout", "set", "course-v1:edX+Nope", "event", "--reason", "x"), "is not a course key"),
    (("rollout", "set", "edX", "evnt", "--reason", "x"), "Unknown stage 'evnt'"),
    (("rollout", "show", "--format", "yaml"), "invalid choice: 'yaml'"),
    (("deliveries", "--course", "nope"), "--course: 'nope' is not a course key"),
    (("replay", "--since", "yesterday"), "--since 'yesterday' is not a date and time"),
    (("switch-off", "--check", "--days", "0"), "--days 0: expected a number of days above 0"),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("args", "message"), BAD_ARGUMENTS, ids=[" ".join(a[:2]) for a, _ in BAD_ARGUMENTS])
def test_a_bad_argument_is_a_one_line_error_with_exit_code_2(args, message):
    done = _bridge(*args)

    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len([line for line in done.stderr.splitlines() if line.strip()]) <= 3  # argparse adds its usage


def test_every_setting_has_a_check_of_its_value():
    """A setting added to conf.DEFAULTS without a rule in checks.TOP would pass ``manage check`` unread."""
    from xqueue_bridge import checks, conf

    assert sorted(set(conf.DEFAULTS) - set(checks.TOP)) == []
    assert sorted(set(checks.TOP) - set(conf.DEFAULTS)) == []
