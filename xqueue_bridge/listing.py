"""
How every listing command prints (``--format table|json|csv``) and ends its ``--help`` (examples that work
as printed; a test runs them). A leaf module: it imports nothing of the bridge.
"""

from __future__ import annotations

import argparse
import csv
import io
import json

from django.core.management.base import DjangoHelpFormatter

FORMATS = ("table", "json", "csv")


def add_format_argument(parser, default: str = "table") -> None:
    parser.add_argument("--format", choices=FORMATS, default=default,
                        help="table for people, json for scripts (the API's shape), csv for spreadsheets")


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return "; ".join(map(str, value))
    return str(value)


def render(rows: list[dict], columns: list[str], fmt: str, *, empty: str = "nothing to list") -> str:
    """``rows`` as a table (the given columns), JSON (every key) or CSV (the given columns)."""
    if fmt == "json":
        return json.dumps(rows, indent=2, default=str) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(column) is None else _cell(row.get(column)) for column in columns])
        return out.getvalue()
    if not rows:
        return empty + "\n"
    widths = {c: min(60, max(len(c), *(len(_cell(row.get(c))) for row in rows))) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    lines += ["  ".join(_cell(row.get(c))[: widths[c]].ljust(widths[c]) for c in columns).rstrip() for row in rows]
    return "\n".join(lines) + "\n"


class ExamplesHelpFormatter(DjangoHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Django's help layout, with the epilog's examples kept line by line."""


def examples_epilog(examples: list[str]) -> str:
    return "examples:\n" + "\n".join(f"  {example}" for example in examples)


class WithExamples:
    """A management command mixin: ``examples`` (command lines, as typed) end its ``--help``."""

    examples: list[str] = []

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("epilog", examples_epilog(self.examples))
        kwargs.setdefault("formatter_class", ExamplesHelpFormatter)
        return super().create_parser(prog_name, subcommand, **kwargs)
