"""``python -m bench``: run every benchmark module of this package that has a ``main()``, one by one."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path


def main() -> int:
    status = 0
    names = sorted(info.name for info in pkgutil.iter_modules([str(Path(__file__).parent)]))
    for name in names:
        if name.startswith("_") or not hasattr(importlib.import_module(f"bench.{name}"), "main"):
            continue
        # One process per benchmark: each sets up Django and its own throwaway database.
        status |= subprocess.call([sys.executable, "-m", f"bench.{name}"])
    return status


if __name__ == "__main__":
    sys.exit(main())
