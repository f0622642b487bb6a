"""Every setting in ``xqueue_bridge.conf.DEFAULTS`` is in the README's settings table, and only those."""

import re
from pathlib import Path

from xqueue_bridge.conf import DEFAULTS

README = Path(__file__).resolve().parents[1] / "README.rst"


def _settings_table() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("\nSettings\n********\n", 1)[1]
    return section.split("\n*****", 1)[0]


def test_every_setting_is_in_the_readme_settings_table():
    table = _settings_table()
    named = set(re.findall(r"^``([A-Z_]+)``", table, flags=re.MULTILINE))
    named |= set(re.findall(r"^``[A-Z_]+`` / ``([A-Z_]+)``", table, flags=re.MULTILINE))
    named |= set(re.findall(r"``([A-Z_]+)``,? ", table.split("SHADOW", 1)[1].splitlines()[0]))
    assert set(DEFAULTS) - named == set()
    assert {name for name in named if name.isupper()} - set(DEFAULTS) - {"SHADOW"} == set()
