"""The findings trend as a small SVG drawn on the server: a stacked bar per run (or day),
critical at the bottom, with a title and a summary for screen readers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup, escape

from pavedroad.security.findings import SEVERITIES

COLOURS = {
    "critical": "var(--danger)",
    "high": "#d9480f",
    "medium": "var(--warning)",
    "low": "var(--muted, #8a8f98)",
    "info": "var(--border, #c8ccd2)",
}
WIDTH, HEIGHT, GAP = 600, 110, 3


def findings_trend(points: Sequence[tuple[datetime, dict[str, int]]], *, label: str) -> Markup:
    """Stacked bars of findings by severity, oldest on the left; empty when there is nothing."""
    if not points:
        return Markup("")
    tallest = max(sum(counts.values()) for _, counts in points) or 1
    slot = WIDTH / len(points)
    bar = max(2.0, slot - GAP)
    latest = points[-1][1]
    summary = ", ".join(f"{latest[s]} {s}" for s in SEVERITIES if latest.get(s)) or "none"
    description = f"{label}: {len(points)} points, oldest first; now {summary}."
    shapes = []
    for index, (at, counts) in enumerate(points):
        bottom = float(HEIGHT)
        for severity in SEVERITIES:
            count = counts.get(severity, 0)
            if not count:
                continue
            height = HEIGHT * count / tallest
            bottom -= height
            tip = f"{at:%Y-%m-%d %H:%M}: {count} {severity}"
            shapes.append(
                f'<rect x="{index * slot:.1f}" y="{bottom:.1f}" width="{bar:.1f}" '
                f'height="{height:.1f}" fill="{COLOURS[severity]}">'
                f"<title>{escape(tip)}</title></rect>"
            )
    return Markup(
        f'<svg class="findings-trend" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(description)}" preserveAspectRatio="none">'
        f"<title>{escape(description)}</title>{''.join(shapes)}</svg>"
    )
