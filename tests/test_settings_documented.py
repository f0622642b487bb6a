"""Every setting in xqueue_bridge/conf.py DEFAULTS is in README.rst's settings tables, nested keys too."""

from __future__ import annotations

from pathlib import Path

from xqueue_bridge.conf import DEFAULTS

README = (Path(__file__).resolve().parent.parent / "README.rst").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme():
    missing = []
    for name, default in DEFAULTS.items():
        if isinstance(default, dict) and name in ("SHADOW", "READINESS", "GUARDRAIL", "SWITCH_OFF"):
            missing += [f'{name}["{key}"]' for key in default if f'``{name}["{key}"]``' not in README]
        elif f"``{name}``" not in README and f"``{name}`` " not in README:
            missing.append(name)
    assert missing == []
