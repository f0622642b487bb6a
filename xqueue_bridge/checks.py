"""
Django system checks of every XQUEUE_BRIDGE setting: its type and its value, before anything is served.

A value that would make a request, a delivery or a command fail is an Error (``manage check`` fails;
``serve``, ``worker`` and ``demo`` refuse to start with the message). Each message names the setting,
what it holds, and what is expected. The shadow app checks its own rules (``shadow/checks.py``).
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from xqueue_bridge.conf import DEFAULTS, get_setting
from xqueue_bridge.errors import ConfigurationError, InvalidSettingValue
from xqueue_bridge.outbox.runners import DELIVERY_MODES
from xqueue_bridge.transports.origins import parse_origin_rule


def _number(value, *, minimum: float = 0.0, strict: bool = True, integer: bool = False) -> None:
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral if integer else numbers.Real):
        raise InvalidSettingValue(f"expected {kind}")
    if value < minimum or (strict and value == minimum):
        raise InvalidSettingValue(f"expected {kind} {'above' if strict else 'of at least'} {minimum:g}")


def positive(value) -> None:
    _number(value)


def positive_int(value) -> None:
    _number(value, integer=True)


def optional_positive(value) -> None:
    if value is None:
        return
    try:
        _number(value)
    except InvalidSettingValue as exc:
        raise InvalidSettingValue(f"{exc}, or None") from None


def not_negative(value) -> None:
    _number(value, strict=False)


def count_at_least_one(value) -> None:
    _number(value, minimum=1, strict=False, integer=True)


def not_negative_int(value) -> None:
    _number(value, strict=False, integer=True)


def fraction(value) -> None:
    _number(value, strict=False)
    if value > 1:
        raise InvalidSettingValue("expected a fraction from 0 to 1")


def boolean(value) -> None:
    if not isinstance(value, bool):
        raise InvalidSettingValue("expected True or False")


def text(value) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidSettingValue("expected a non-empty string")


def names(value) -> None:
    if not isinstance(value, list | tuple) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidSettingValue("expected a non-empty list of non-empty strings")


def credentials(value) -> None:
    if value is None:
        return
    if not isinstance(value, list | tuple) or len(value) != 2 or not all(isinstance(v, str) for v in value):
        raise InvalidSettingValue('expected None or ("user", "password")')


def origins(value) -> None:
    if not isinstance(value, list | tuple):
        raise InvalidSettingValue("expected a list of origins such as 'https://lms.example.org'")
    for rule in value:
        if not isinstance(rule, str):
            raise InvalidSettingValue(f"entry {rule!r} is not a string; expected 'scheme://host[:port]' or 'scheme://host:*'")
        try:
            parse_origin_rule(rule)
        except ConfigurationError as exc:
            raise InvalidSettingValue(f"{exc.message} (scheme http or https)")


def verify(value) -> None:
    if value is True:
        return
    if not isinstance(value, str) or not os.path.isfile(value):
        raise InvalidSettingValue("expected True (the system's CAs) or the path of an existing CA bundle file")


def delivery_mode(value) -> None:
    if value not in DELIVERY_MODES:
        raise InvalidSettingValue(f"expected one of {', '.join(DELIVERY_MODES)}")


def importable(value) -> None:
    try:
        import_string(value)
    except (ImportError, TypeError, ValueError) as exc:
        raise InvalidSettingValue(f"cannot be imported ({exc}); expected a dotted path")


def optional_importable(value) -> None:
    if value is not None:
        importable(value)


def points_table(value) -> None:
    if not isinstance(value, dict):
        raise InvalidSettingValue('expected a dict such as {"course-v1:Org+C+R": 2, "queue:python": 1}')
    for key, points in value.items():
        if not isinstance(key, str):
            raise InvalidSettingValue(f"key {key!r} is not a string")
        try:
            positive_int(points)
        except InvalidSettingValue:
            raise InvalidSettingValue(f"{key!r}: {points!r}: expected a whole number of points above 0")


def retry(value) -> None:
    if not isinstance(value, dict):
        raise InvalidSettingValue("expected a dict of max_attempts, max_age, backoff_factor, backoff_max, jitter")
    if value.get("max_attempts") is not None:
        count_at_least_one(value["max_attempts"])
    positive(value.get("max_age"))
    for key in ("backoff_factor", "backoff_max"):  # 0: retry at once (tests, a local LMS)
        try:
            _number(value.get(key), strict=False)
        except InvalidSettingValue as exc:
            raise InvalidSettingValue(f"{key!r}: {exc}")
    fraction(value.get("jitter"))


def any_value(value) -> None:
    """Read by another check (the shadow app checks its rules, the roles check the receiving ends' secret)."""


def dotted_paths(value) -> None:
    if not isinstance(value, list | tuple) or not all(isinstance(path, str) and path for path in value):
        raise InvalidSettingValue("expected a list of dotted paths such as 'package.module.function'")


def url_prefix(value) -> None:
    if not isinstance(value, str) or value.startswith("/"):
        raise InvalidSettingValue("expected a path prefix such as 'xqueue-bridge/' (no leading slash), or ''")


TOP: dict[str, Callable] = {
    "QUEUES": names, "GROUP": text, "HTTP_BASIC_AUTH": credentials, "PULL_TIMEOUT": positive,
    "POINTS_POSSIBLE": points_table, "DEFAULT_POINTS_POSSIBLE": positive_int,
    "MAX_GRADING_ATTEMPTS": count_at_least_one, "ALLOWED_CALLBACK_ORIGINS": origins,
    "CALLBACK_CONNECT_TIMEOUT": positive, "CALLBACK_READ_TIMEOUT": positive, "CALLBACK_VERIFY": verify,
    "CALLBACK_BASIC_AUTH": credentials, "DELIVERY_MODE": delivery_mode, "DELIVERY_THREADS": count_at_least_one,
    "CELERY_APP": optional_importable, "DELIVERY_RETRY": retry, "DELIVERY_LEASE": positive,
    "WORKER_POLL_INTERVAL": positive, "NOTIFY_LEARNER_ON_FAILURE": boolean, "RENDERER": importable,
    "RECEIVING_ENDS": boolean, "SANITIZE_FEEDBACK": boolean, "MAX_REQUEST_BYTES": positive_int,
    "MAX_FILES": not_negative_int, "MAX_FILE_BYTES": positive_int, "MAX_REPLY_BYTES": positive_int,
    "SUBMISSION_RETENTION_DAYS": positive, "SHADOW": any_value, "READINESS": any_value, "GUARDRAIL": any_value,
    "SWITCH_OFF": any_value, "LMS_GROUP": text, "GRADER_GROUP": text, "RECEIVING_ENDS_SECRET": any_value,
    "EVENT_RECEIVERS": dotted_paths, "PLUGIN_URL_PREFIX": url_prefix, "SERVICE_SECRET_MIN_LENGTH": positive_int,
    "HEALTH_MAX_DUE_AGE": positive, "METRICS_WINDOW_HOURS": positive,
    "ROLE_CACHE_TTL": not_negative,
}
NESTED: dict[str, dict[str, Callable]] = {
    "SHADOW": {
        "SAMPLE_RATE": fraction, "COURSE_SAMPLE_RATES": any_value, "NOISE_BASELINE": boolean,
        "STORE_FULL_VALUES": boolean, "RETENTION_DAYS": not_negative, "START_DELAY": not_negative,
        "MAX_LAG": optional_positive, "CLEAN_RULES": any_value, "IGNORE_RULES": any_value,
    },
    "READINESS": {
        "MIN_COMPARISONS": not_negative_int, "MIN_HOURS": not_negative, "MAX_MISMATCH_RATE": fraction,
        "MAX_ERROR_RATE": fraction, "BLOCK_ON_RECORD_DIFFERENCES": boolean,
    },
    "GUARDRAIL": {
        "ENABLED": boolean, "MAX_MISMATCH_RATE": fraction, "MAX_ERROR_RATE": fraction,
        "MIN_COMPARISONS": count_at_least_one, "WINDOW_HOURS": positive, "CHECK_INTERVAL": positive,
    },
    "SWITCH_OFF": {"RECENT_DAYS": positive},
}


def _error(number: int, setting: str, value, problem: str) -> checks.Error:
    return checks.Error(
        f"XQUEUE_BRIDGE[{setting}] = {value!r}: {problem}.",
        hint="Fix the setting (or the environment variable that fills it: see xqueue_bridge/runtime/settings.py); "
             "xqueue_bridge/conf.py documents each one.",
        id=f"xqueue_bridge.E{number:03d}",
    )


def check_settings(app_configs=None, **kwargs) -> list[checks.Error]:
    """Every XQUEUE_BRIDGE setting: known, of its type, with a usable value (errors E001-E004)."""
    configured = getattr(settings, "XQUEUE_BRIDGE", {}) or {}
    if not isinstance(configured, dict):
        return [_error(1, "", configured, "expected a dict of settings")]
    errors = [
        _error(1, repr(name), configured[name], f"unknown setting; known: {', '.join(sorted(DEFAULTS))}")
        for name in configured if name not in DEFAULTS
    ]
    for name, validate in TOP.items():
        value = get_setting(name)
        nested = NESTED.get(name)
        if nested is not None:
            if not isinstance(value, dict):
                errors.append(_error(2, repr(name), value, f"expected a dict of {', '.join(nested)}"))
                continue
            for key in value:
                if key not in nested:
                    errors.append(_error(1, f"{name!r}][{key!r}", value[key], f"unknown; known: {', '.join(nested)}"))
            for key, check in nested.items():
                try:
                    check(value.get(key))
                except InvalidSettingValue as exc:
                    errors.append(_error(2, f"{name!r}][{key!r}", value.get(key), str(exc)))
            continue
        try:
            validate(value)
        except InvalidSettingValue as exc:
            errors.append(_error(2, repr(name), value, str(exc)))
    errors += _relations()
    return errors


def _real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _relations() -> list[checks.Error]:
    """Settings that are each fine but do not fit together."""
    errors = []
    reply, request = get_setting("MAX_REPLY_BYTES"), get_setting("MAX_REQUEST_BYTES")
    upload = getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", 2621440)
    if isinstance(reply, int) and isinstance(request, int) and reply > request:
        errors.append(_error(3, "'MAX_REPLY_BYTES'", reply, f"above MAX_REQUEST_BYTES ({request}): lower it"))
    if isinstance(reply, int) and upload is not None and reply > upload:
        errors.append(_error(
            3, "'MAX_REPLY_BYTES'", reply,
            f"above Django's DATA_UPLOAD_MAX_MEMORY_SIZE ({upload}), which refuses such replies first: "
            "raise DATA_UPLOAD_MAX_MEMORY_SIZE or lower MAX_REPLY_BYTES",
        ))
    shadow = get_setting("SHADOW")
    lag, delay = (shadow.get("MAX_LAG"), shadow.get("START_DELAY")) if isinstance(shadow, dict) else (None, None)
    if _real(lag) and _real(delay) and lag <= delay:
        errors.append(_error(
            3, "'SHADOW']['MAX_LAG'", lag,
            f"at or below SHADOW['START_DELAY'] ({delay:g}), so every comparison would be shed: raise it",
        ))
    if get_setting("DELIVERY_MODE") == "celery" and get_setting("CELERY_APP") is None:
        try:
            import celery  # noqa: F401  (the current app is used: Celery must be installed)
        except ImportError:
            errors.append(_error(4, "'DELIVERY_MODE'", "celery", "Celery is not installed"))
    return errors
