"""
Settings are a checked contract: each is annotated where it is defined (``.. setting_name:``,
``.. setting_default:``, ``.. setting_description:``, read by Open edX's code_annotations) with the
default the code has, and the READMEs' settings tables list the same settings with the same defaults.

A README table is an RST simple table whose header is ``setting default meaning``. A name is written as
in the settings dict (``QUEUES``, ``SHADOW["SAMPLE_RATE"]``; ``TOGGLES["CACHE_TTL"]`` outside the toggles
README); a default is a Python literal in inline literals, the pieces of a cell that spans lines joined as
they are (so a long string may be cut anywhere).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import code_annotations
import pytest
from code_annotations.base import AnnotationConfig
from code_annotations.find_static import StaticSearch

from toggles import conf as toggles_conf
from xqueue_bridge import conf as bridge_conf

ROOT = Path(__file__).resolve().parents[1]
SETTING_CONFIG = Path(code_annotations.__file__).parent / "contrib" / "config" / "setting_annotations.yaml"
SOURCES = {
    "XQUEUE_BRIDGE": (ROOT / "xqueue_bridge" / "conf.py", bridge_conf.DEFAULTS),
    "TOGGLES": (ROOT / "toggles" / "conf.py", toggles_conf.DEFAULTS),
}
READMES = [(ROOT / "README.rst", "XQUEUE_BRIDGE"), (ROOT / "toggles" / "README.rst", "TOGGLES")]

NAME = re.compile(r"""^(?P<first>[A-Za-z_]+)(?P<keys>(?:\[(['"])[A-Za-z_]+\3\])*)$""")
KEY = re.compile(r"""\[['"]([A-Za-z_]+)['"]\]""")
BORDER = re.compile(r"^=+( +=+)+ *$")
LITERAL = re.compile(r"``(.+?)``")


def parse_name(text: str, root: str) -> tuple[str, ...]:
    """``XQUEUE_BRIDGE['SHADOW']['SAMPLE_RATE']`` or (under ``root``) ``SHADOW["SAMPLE_RATE"]`` → a path."""
    match = NAME.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a setting name such as QUEUES or SHADOW['SAMPLE_RATE']")
    path = (match["first"], *KEY.findall(match["keys"]))
    return path if path[0] in SOURCES else (root, *path)


def evaluate(text: str):
    """The value of a default written as a Python literal (``*`` and ``+`` allowed: ``20 * 1024 * 1024``)."""

    def value(node):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.List | ast.Tuple):
            items = [value(item) for item in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Dict):
            return {value(key): value(item) for key, item in zip(node.keys, node.values, strict=True)}
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -value(node.operand)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Add):
            left, right = value(node.left), value(node.right)
            return left * right if isinstance(node.op, ast.Mult) else left + right
        raise ValueError(f"{text!r} is not a Python literal")

    return value(ast.parse(text.strip(), mode="eval").body)


def leaves(defaults: dict, root: str) -> dict[tuple[str, ...], object]:
    """Every setting of a DEFAULTS dict: a non-empty dict is a group of settings, anything else one."""
    found = {}
    for key, default in defaults.items():
        if isinstance(default, dict) and default:
            found.update({(root, key, *path[1:]): value for path, value in leaves(default, root).items()})
        else:
            found[(root, key)] = default
    return found


def annotated(path: Path, root: str) -> dict[tuple[str, ...], str]:
    """Each setting annotated in ``path`` and its ``setting_default``, as code_annotations finds them."""
    search = StaticSearch(AnnotationConfig(str(SETTING_CONFIG), source_path_override=str(path), verbosity=0))
    results = search.search()
    assert search.check_results(results), "\n".join(search.errors)
    found: dict[tuple[str, ...], str] = {}
    for found_in_file in results.values():
        for group in [list(group) for group in search.iter_groups(found_in_file)]:
            tokens = {annotation["annotation_token"]: annotation["annotation_data"] for annotation in group}
            name = parse_name(tokens[".. setting_name:"], root)
            assert name not in found, f"{path.name}: {name} is annotated twice"
            found[name] = tokens[".. setting_default:"]
    return found


def listed(text: str, root: str) -> dict[tuple[str, ...], str]:
    """Each setting of the ``setting default meaning`` tables of an RST text, and its default."""
    lines = text.splitlines()
    found: dict[tuple[str, ...], str] = {}
    index = 0
    while index + 2 < len(lines):
        header = lines[index + 1].split()
        if not (BORDER.match(lines[index]) and header[:2] == ["setting", "default"]):
            index += 1
            continue
        columns = [match.span() for match in re.finditer("=+", lines[index])]
        (name_start, default_start), default_end = (columns[0][0], columns[1][0]), columns[2][0]
        rows: list[tuple[str, list[str]]] = []
        index += 3
        while not BORDER.match(lines[index]):
            line = lines[index]
            name, default = line[name_start:default_start].strip(), line[default_start:default_end].strip()
            if name:
                rows.append((name, [default]))
            elif rows:
                rows[-1][1].append(default)
            index += 1
        for name, defaults in rows:
            path = parse_name(name.strip("`"), root)
            assert path not in found, f"{path} is listed twice"
            found[path] = "".join(LITERAL.findall(" ".join(defaults)))
        index += 1
    return found


def disagreements(expected: dict, found: dict, where: str) -> list[str]:
    """What ``where`` lacks, has in excess, or gives another default for (both sides' defaults as text)."""
    problems = [f"{where} lacks {name}" for name in sorted(expected.keys() - found.keys())]
    problems += [f"{where} has {name}, which is not a setting" for name in sorted(found.keys() - expected.keys())]
    for name in sorted(expected.keys() & found.keys()):
        try:
            same = repr(evaluate(expected[name])) == repr(evaluate(found[name]))
        except (ValueError, SyntaxError) as error:
            problems.append(f"{where}, {name}: {error}")
            continue
        if not same:
            problems.append(f"{where} gives {name} the default {found[name]!r}, not {expected[name]!r}")
    return problems


def all_annotated() -> dict[tuple[str, ...], str]:
    return {name: default for root, (path, _) in SOURCES.items() for name, default in annotated(path, root).items()}


@pytest.mark.parametrize("root", SOURCES)
def test_every_setting_is_annotated_where_it_is_defined_with_the_default_it_has(root):
    path, defaults = SOURCES[root]
    in_code = {name: repr(value) for name, value in leaves(defaults, root).items()}
    assert disagreements(in_code, annotated(path, root), f"{path.name}'s annotations") == []


@pytest.mark.parametrize(("readme", "root"), READMES, ids=lambda value: getattr(value, "name", value))
def test_the_readme_lists_every_setting_with_the_annotated_default(readme, root):
    expected = all_annotated()
    found = listed(readme.read_text(), root)
    if root == "TOGGLES":  # the toggles app's own README lists only its settings
        expected = {name: default for name, default in expected.items() if name[0] == "TOGGLES"}
    assert disagreements(expected, found, readme.name) == []


def test_the_check_notices_a_missing_setting_and_another_default():
    readme = (ROOT / "README.rst").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("``PULL_TIMEOUT``"))
    without_row = readme.replace(row + "\n", "")
    other_default = readme.replace(row, row.replace("``300``", "``30``", 1))
    expected = all_annotated()
    assert disagreements(expected, listed(without_row, "XQUEUE_BRIDGE"), "README") == [
        "README lacks ('XQUEUE_BRIDGE', 'PULL_TIMEOUT')"
    ]
    assert disagreements(expected, listed(other_default, "XQUEUE_BRIDGE"), "README") == [
        "README gives ('XQUEUE_BRIDGE', 'PULL_TIMEOUT') the default '30', not '300'"
    ]
    extra = {**expected, ("XQUEUE_BRIDGE", "RETIRED"): "1"}
    assert disagreements(expected, extra, "conf.py") == [
        "conf.py has ('XQUEUE_BRIDGE', 'RETIRED'), which is not a setting"
    ]


def test_a_default_cut_over_several_lines_of_a_cell_is_read_whole():
    table = "\n".join(
        [
            "========== ======================== =======",
            "setting    default                  meaning",
            "========== ======================== =======",
            '``NAME``   ``"xqueue_bridge.sink.`` a path',
            '           ``renderer.Renderer"``',
            '``RULES``  ``["nbsp",``             rules',
            '           ``"points_precision"]``',
            "========== ======================== =======",
        ]
    )
    found = listed(table, "XQUEUE_BRIDGE")
    assert evaluate(found[("XQUEUE_BRIDGE", "NAME")]) == "xqueue_bridge.sink.renderer.Renderer"
    assert evaluate(found[("XQUEUE_BRIDGE", "RULES")]) == ["nbsp", "points_precision"]


@pytest.mark.parametrize("get_setting", [bridge_conf.get_setting, toggles_conf.get_setting])
def test_get_setting_still_refuses_a_name_that_is_not_a_setting(get_setting):
    with pytest.raises(KeyError, match="Unknown .*setting 'SAMPLE_RATE'; known settings: "):
        get_setting("SAMPLE_RATE")  # a nested key is not a setting of its own
