"""Every setting in ``xqueue_bridge/conf.py`` is in the README's settings table, and the new ones are annotated."""

from __future__ import annotations

from pathlib import Path

from xqueue_bridge import conf

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_in_the_readme_settings_table():
    readme = (ROOT / "README.rst").read_text()
    table = readme[readme.index("Settings\n********"):]
    missing = [name for name in conf.DEFAULTS if f"``{name}``" not in table and f'``{name}["' not in table]
    assert missing == []


def test_the_role_and_receiving_end_settings_are_annotated_where_they_are_defined():
    source = (ROOT / "xqueue_bridge" / "conf.py").read_text()
    for name in ("GROUP", "LMS_GROUP", "GRADER_GROUP", "RECEIVING_ENDS_SECRET"):
        block = source[source.index(f".. setting_name: XQUEUE_BRIDGE['{name}']"):]
        assert block.index(".. setting_default:") < block.index(".. setting_description:") < block.index(f'"{name}":')
