"""The plot of ``bench/results/scale.json`` (run in ``bench/.venv``, which has matplotlib)."""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# The order of the bars; the targets not named here (the process-scaling cells) follow, sorted.
ORDER = ["floor", "edx-submissions", "callback", "shadow_callback", "shadow_event", "event"]
GRADERS = (1, 4)


def plot(source: str, target: str) -> None:
    report = json.loads(open(source).read())
    rows = report["rows"]
    databases = list(dict.fromkeys(r["database"] for r in rows))
    figure, axes = plt.subplots(2, len(databases), figsize=(7 * len(databases), 8.5), squeeze=False)
    width = 0.38
    for column, database in enumerate(databases):
        by = {(r["target"], r["graders"]): r for r in rows if r["database"] == database}
        ran = list(dict.fromkeys(t for t, _ in by))
        targets = [t for t in ORDER if t in ran] + sorted(t for t in ran if t not in ORDER)
        for line, (field, label) in enumerate((("results_per_s", "results/s (first put_result to last delivery)"),
                                               ("put_result_p99_ms", "put_result p99 (ms)"))):
            axis = axes[line][column]
            for offset, graders in zip((-width / 2, width / 2), GRADERS, strict=True):
                # Only the cells that ran; a target with one number of graders (process scaling) is centred.
                cells = [(i + (offset if all((t, g) in by for g in GRADERS) else 0), by[(t, graders)].get(field) or 0)
                         for i, t in enumerate(targets) if (t, graders) in by]
                bars = axis.bar([x for x, _ in cells], [value for _, value in cells], width,
                                label=f"{graders} grader{'s' if graders > 1 else ''}")
                axis.bar_label(bars, fmt="%.0f", fontsize=7)
            axis.set_xticks(range(len(targets)), targets, rotation=25, ha="right", fontsize=8)
            axis.set_title(f"{database}: {label}", fontsize=10)
            axis.legend(fontsize=8)
    figure.suptitle(f"make bench: {report['results_per_cell']} results per cell, {report['machine']['cpus']} cores")
    figure.tight_layout()
    figure.savefig(target, dpi=90)


if __name__ == "__main__":
    plot(sys.argv[1], sys.argv[2])
