"""Pictures drawn on the server as SVG: a component's duration trend and its status badge.

No chart library: a bar per run is all the trend needs, and an SVG badge is what READMEs embed.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import median

from markupsafe import Markup, escape

from pavedroad.pipelines.models import PipelineRun
from pavedroad.pipelines.views.present import human_duration, seconds

# Colours through the page's theme variables, so the dark theme recolours the chart.
TREND_COLOURS = {
    "succeeded": "var(--success)",
    "failed": "var(--danger)",
    "rejected": "var(--danger)",
    "cancelled": "var(--warning)",
}
WIDTH, HEIGHT, GAP, TOP, BOTTOM = 600, 120, 4, 4, 2


def duration_trend(runs: Sequence[PipelineRun], *, title_id: str = "trend-title") -> Markup:
    """Bars of the finished runs' durations, oldest on the left, coloured by status; each bar
    has a tooltip, the picture a title and a summary for screen readers."""
    durations = [seconds(run.started_at, run.finished_at) for run in runs]
    if not durations:
        return Markup("")
    tallest = max(durations) or 1.0
    slot = WIDTH / max(len(durations), 1)
    bar = max(2.0, slot - GAP)
    usable = HEIGHT - TOP - BOTTOM
    failed = sum(1 for run in runs if run.status in ("failed", "rejected"))
    description = (
        f"{len(runs)} finished runs, oldest first: median {human_duration(median(durations))}, "
        f"longest {human_duration(tallest)}, {failed} failed."
    )
    parts = [
        f'<svg class="trend" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{title_id} {title_id}-desc" preserveAspectRatio="none">',
        f'<title id="{title_id}">Duration of the last {len(runs)} finished runs</title>',
        f'<desc id="{title_id}-desc">{escape(description)}</desc>',
        f'<line x1="0" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}" '
        'stroke="var(--border)" stroke-width="1"/>',
    ]
    for index, (run, duration) in enumerate(zip(runs, durations, strict=True)):
        height = max(2.0, usable * duration / tallest)
        x = index * slot + GAP / 2
        y = HEIGHT - BOTTOM - height
        colour = TREND_COLOURS.get(run.status, "var(--muted)")
        tip = f"#{run.number} on {run.branch}: {run.status} in {human_duration(duration)}"
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" rx="2" '
            f'style="fill: {colour}" data-status="{escape(run.status)}">'
            f"<title>{escape(tip)}</title></rect>"
        )
    parts.append("</svg>")
    # Labels in HTML, not in the picture: the picture stretches to the card's width.
    parts.append(
        f'<div class="trend-axis" aria-hidden="true"><span>#{runs[0].number}</span>'
        f"<span>longest {escape(human_duration(tallest))}</span>"
        f"<span>#{runs[-1].number}</span></div>"
    )
    return Markup("".join(parts))


BADGE_STATES = {
    "succeeded": ("passing", "#1a7f37"),
    "failed": ("failing", "#c1121f"),
    "rejected": ("invalid", "#c1121f"),
    "cancelled": ("cancelled", "#8a5a00"),
    "running": ("running", "#1f5fd1"),
    "queued": ("queued", "#1f5fd1"),
}
NO_RUN = ("none", "#57606a")


def badge_message(status: str | None) -> tuple[str, str]:
    """What the badge says for a run's status, and its colour."""
    return BADGE_STATES.get(status or "", NO_RUN)


def status_badge(status: str | None, *, label: str = "pipeline") -> str:
    """A shields-style badge: ``pipeline | passing`` (grey label, coloured message)."""
    message, colour = badge_message(status)
    left = _text_width(label) + 12
    right = _text_width(message) + 12
    width = left + right
    text = escape(f"{label}: {message}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" '
        f'role="img" aria-label="{text}"><title>{text}</title>'
        f'<rect width="{left}" height="20" rx="3" fill="#3b434b"/>'
        f'<rect x="{left}" width="{right}" height="20" rx="3" fill="{colour}"/>'
        f'<rect x="{left}" width="4" height="20" fill="{colour}"/>'
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="6" y="14">{escape(label)}</text>'
        f'<text x="{left + 6}" y="14">{escape(message)}</text></g></svg>'
    )


def _text_width(text: str) -> int:
    """Roughly how wide Verdana 11 px draws ``text`` (no font metrics on the server)."""
    return int(sum(4.0 if char in "ijlt .:|!" else 7.0 for char in text)) + 1
