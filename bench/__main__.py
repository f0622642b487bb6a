"""
``python -m bench`` (``make bench``): the run of record, ``bench.scale``, side by side in one run.

``python -m bench all`` also runs the longer single-purpose benchmarks, one process each (each sets up
Django and its own throwaway database): stage decisions, put_result latency with shadow mode on and off,
the queries and write transactions of one result, and a deep queue and a long outbox (``bench.backlog``).
"""

from __future__ import annotations

import subprocess
import sys

RECORD = ["scale"]
LONGER = ["work_per_result", "stage_decision", "put_result_latency", "backlog"]


def main(argv: list[str]) -> int:
    names = RECORD + (LONGER if argv[:1] == ["all"] else [])
    status = 0
    for name in names:
        status |= subprocess.call([sys.executable, "-m", f"bench.{name}"])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
