"""
Charts drawn on the server as inline SVG: no script, no CDN, readable without JavaScript and in a
screenshot. Each takes the figures the API serves and returns safe markup.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

COLORS = {
    "callback": "#6c757d", "shadow_callback": "#f0ad4e", "shadow_event": "#5bc0de", "event": "#28a745",
    "failure_notice": "#d9534f", "match_rate": "#0b5ed7",
}
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 200, 44, 24, 10


def _svg(body: list[str], title: str, height: int = HEIGHT) -> SafeString:
    return mark_safe(  # noqa: S308 (every label is escaped below)
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def _axis(maximum: float, label) -> list[str]:
    plot = HEIGHT - BOTTOM - TOP
    parts = [f'<line x1="{LEFT}" y1="{TOP + plot}" x2="{WIDTH}" y2="{TOP + plot}" stroke="#999"/>']
    for fraction in (0, 0.5, 1):
        y = TOP + plot - fraction * plot
        parts.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">'
                     f'{escape(label(fraction * maximum))}</text>')
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH}" y2="{y:.1f}" stroke="#eee"/>')
    return parts


def _period_labels(periods: list[str], step: float) -> list[str]:
    every = max(1, len(periods) // 8)
    return [
        f'<text x="{LEFT + (i + 0.5) * step:.1f}" y="{HEIGHT - 6}" text-anchor="middle" font-size="10">'
        f'{escape(period[5:13].replace("T", " "))}</text>'
        for i, period in enumerate(periods) if i % every == 0
    ]


def stacked_bars(points: list[dict], keys: list[str], title: str) -> SafeString:
    """Volume per period, one stacked bar per period (e.g. results delivered by path)."""
    maximum = max([sum(point[key] for key in keys) for point in points] + [1])
    plot = HEIGHT - BOTTOM - TOP
    step = (WIDTH - LEFT) / max(1, len(points))
    body = _axis(maximum, lambda value: f"{value:.0f}")
    for i, point in enumerate(points):
        y = TOP + plot
        for key in keys:
            if not point[key]:
                continue
            h = plot * point[key] / maximum
            y -= h
            body.append(
                f'<rect class="bar bar-{key}" x="{LEFT + i * step + 1:.1f}" y="{y:.1f}" '
                f'width="{max(1.0, step - 2):.1f}" height="{h:.1f}" fill="{COLORS[key]}">'
                f'<title>{escape(point["period"])} {key}: {point[key]}</title></rect>'
            )
    body += _period_labels([point["period"] for point in points], step)
    return _svg(body, title)


def rate_line(points: list[dict], key: str, title: str) -> SafeString:
    """A rate (0..1) per period as a line with a dot per period that has data; gaps stay gaps."""
    plot = HEIGHT - BOTTOM - TOP
    step = (WIDTH - LEFT) / max(1, len(points))
    body = _axis(1.0, lambda value: f"{100 * value:.0f}%")
    coords = []
    for i, point in enumerate(points):
        if point[key] is None:
            coords.append(None)
            continue
        x, y = LEFT + (i + 0.5) * step, TOP + plot - plot * point[key]
        coords.append((x, y))
        body.append(f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLORS["match_rate"]}">'
                    f'<title>{escape(point["period"])}: {100 * point[key]:.1f}%</title></circle>')
    segment: list[tuple] = []
    for coord in [*coords, None]:
        if coord is None:
            if len(segment) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in segment)
                body.append(f'<polyline points="{path}" fill="none" stroke="{COLORS["match_rate"]}" stroke-width="2"/>')
            segment = []
        else:
            segment.append(coord)
    body += _period_labels([point["period"] for point in points], step)
    return _svg(body, title)


def stage_map(orgs: list[dict], stages: list[str], title: str) -> SafeString:
    """One row per org: a bar split by how many of its courses are in each stage."""
    row, label_width = 22, 150
    height = TOP + row * max(1, len(orgs)) + 8
    body = []
    for index, org in enumerate(orgs):
        total = sum(org[stage] for stage in stages) or 1
        y = TOP + index * row
        body.append(f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end" font-size="12">'
                    f'{escape(org["org"])}</text>')
        x = float(label_width)
        for stage in stages:
            if not org[stage]:
                continue
            w = (WIDTH - label_width) * org[stage] / total
            body.append(
                f'<rect class="stage stage-{stage}" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 4}" '
                f'fill="{COLORS[stage]}"><title>{escape(org["org"])}: {org[stage]} in {stage}</title></rect>'
            )
            if w > 24:
                body.append(f'<text x="{x + w / 2:.1f}" y="{y + 14}" text-anchor="middle" font-size="11" '
                            f'fill="#fff">{org[stage]}</text>')
            x += w
    return _svg(body, title, height)
