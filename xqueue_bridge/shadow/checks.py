"""System checks of the shadow settings that only the shadow app can read: its rule names and rates."""

from __future__ import annotations

from django.core import checks

from xqueue_bridge.conf import get_setting
from xqueue_bridge.errors import ConfigurationError
from xqueue_bridge.shadow import experiment, rules


def check_shadow_settings(app_configs=None, **kwargs) -> list[checks.Error]:
    """SHADOW's clean and ignore rules are registered names; its sample rates are fractions (E010)."""
    shadow = get_setting("SHADOW")
    if not isinstance(shadow, dict):
        return []  # xqueue_bridge.E002 says so
    errors = []
    for setting, select in (("CLEAN_RULES", rules.active_clean_rules), ("IGNORE_RULES", rules.active_ignore_rules)):
        value = shadow.get(setting)
        if not isinstance(value, list | tuple) or not all(isinstance(name, str) for name in value):
            errors.append(_error(f"XQUEUE_BRIDGE['SHADOW']['{setting}'] = {value!r}: expected a list of rule names."))
            continue
        try:
            select()
        except ConfigurationError as exc:
            errors.append(_error(exc.message + "."))
    rates = shadow.get("COURSE_SAMPLE_RATES")
    if not isinstance(rates, dict):
        errors.append(_error(
            f"XQUEUE_BRIDGE['SHADOW']['COURSE_SAMPLE_RATES'] = {rates!r}: expected a dict such as {{\"edX\": 0.1}}."
        ))
    else:
        for key, rate in rates.items():
            try:
                experiment.sample_rate_value(rate, f"'COURSE_SAMPLE_RATES'][{key!r}")
            except ConfigurationError as exc:
                errors.append(_error(exc.message + "."))
    return errors


def _error(message: str) -> checks.Error:
    return checks.Error(message, hint="xqueue_bridge/conf.py and shadow/rules.py document the choices.",
                        id="xqueue_bridge.E010")
