"""The plot of ``bench/results/scale.json`` (run in ``bench/.venv``, which has matplotlib)."""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot(source: str, target: str) -> None:
    report = json.loads(open(source).read())
    rows = report["rows"]
    databases = sorted({r["database"] for r in rows}, reverse=True)
    targets = list(dict.fromkeys(r["target"] for r in rows if True))
    order = ["floor", "edx-submissions", "callback", "shadow_callback", "shadow_event", "event"]
    targets = [t for t in order if t in targets]
    figure, axes = plt.subplots(2, len(databases), figsize=(6.5 * len(databases), 8), squeeze=False)
    width = 0.38
    for column, database in enumerate(databases):
        by = {(r["target"], r["graders"]): r for r in rows if r["database"] == database}
        for line, (field, label) in enumerate((("results_per_s", "results/s (first put_result to last delivery)"),
                                               ("put_result_p99_ms", "put_result p99 (ms)"))):
            axis = axes[line][column]
            for offset, graders in ((-width / 2, 1), (width / 2, 4)):
                values = [(by.get((t, graders)) or {}).get(field) or 0 for t in targets]
                bars = axis.bar([i + offset for i in range(len(targets))], values, width,
                                label=f"{graders} grader{'s' if graders > 1 else ''}")
                axis.bar_label(bars, fmt="%.0f", fontsize=7)
            axis.set_xticks(range(len(targets)), targets, rotation=20, fontsize=8)
            axis.set_title(f"{database}: {label}", fontsize=10)
            axis.legend(fontsize=8)
    figure.suptitle(f"make bench: {report['results_per_cell']} results per cell, {report['machine']['cpus']} cores")
    figure.tight_layout()
    figure.savefig(target, dpi=90)


if __name__ == "__main__":
    plot(sys.argv[1], sys.argv[2])
