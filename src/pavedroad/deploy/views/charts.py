"""Deployment pictures drawn on the server as SVG, in the pipelines' and security's style: a
deploy's analysed metric over its window with the threshold and the rollback moment, and the
production deploys per week (succeeded and failed) next to the DORA figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from pavedroad.core.clock import as_utc

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 600, 160, 4, 4, 8, 4
CHECK_TITLES = {
    "error_rate": "Error rate",
    "latency_p95": "p95 latency",
    "health": "Health check failing for",
    "critical_logs": "Critical log lines",
}


@dataclass(frozen=True, slots=True)
class Point:
    at: datetime
    value: float | None
    threshold: float | None
    ok: bool | None


def format_value(check: str, value: float | None) -> str:
    if value is None:
        return "no data"
    if check == "error_rate":
        return f"{value:.1%}"
    if check == "latency_p95":
        return f"{value * 1000:.0f} ms"
    if check == "health":
        return f"{value:.0f} s"
    return f"{value:g}"


def check_title(check: str) -> str:
    return CHECK_TITLES.get(check, check.removeprefix("query:"))


def evidence_chart(
    check: str,
    points: Sequence[Point],
    *,
    rollback_at: datetime | None = None,
    title_id: str = "evidence-title",
) -> Markup:
    """The check's samples as a line (red dots where bad), the threshold dashed, and a
    vertical line where the rollback began; a title and a summary for screen readers."""
    if not points:
        return Markup("")
    start = as_utc(points[0].at).timestamp()
    end = as_utc(points[-1].at).timestamp()
    if rollback_at is not None:
        end = max(end, as_utc(rollback_at).timestamp())
    span = max(end - start, 1.0)
    threshold = next((p.threshold for p in reversed(points) if p.threshold is not None), None)
    values = [p.value for p in points if p.value is not None]
    top = max([*values, threshold or 0.0, 1e-9]) * 1.15
    usable_w, usable_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment: datetime) -> float:
        return LEFT + usable_w * (as_utc(moment).timestamp() - start) / span

    def y(value: float) -> float:
        return TOP + usable_h * (1 - value / top)

    bad = sum(1 for p in points if p.ok is False)
    title = check_title(check)
    description = (
        f"{len(points)} samples of {title.lower()}: latest "
        f"{format_value(check, points[-1].value)}, highest "
        f"{format_value(check, max(values) if values else None)}; threshold "
        f"{format_value(check, threshold)}; {bad} bad sample(s)"
        + (f"; rolled back at {as_utc(rollback_at):%H:%M:%S} UTC." if rollback_at else ".")
    )
    parts = [
        f'<svg class="trend evidence-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{title_id} {title_id}-desc" preserveAspectRatio="none">',
        f'<title id="{title_id}">{escape(title)} during the analysis</title>',
        f'<desc id="{title_id}-desc">{escape(description)}</desc>',
        f'<line x1="0" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}" '
        'stroke="var(--border)" stroke-width="1"/>',
    ]
    if threshold is not None:
        ty = y(threshold)
        parts.append(
            f'<line class="threshold" x1="0" y1="{ty:.1f}" x2="{WIDTH}" y2="{ty:.1f}" '
            'stroke="var(--danger)" stroke-width="1.5" stroke-dasharray="6 4">'
            f"<title>threshold {escape(format_value(check, threshold))}</title></line>"
        )
    segment: list[str] = []
    segments: list[list[str]] = []
    for point in points:
        if point.value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(point.at):.1f},{y(point.value):.1f}")
    if segment:
        segments.append(segment)
    for line in segments:
        parts.append(
            f'<polyline points="{" ".join(line)}" fill="none" stroke="var(--accent)" '
            'stroke-width="2"/>'
        )
    for point in points:
        if point.value is None:
            continue
        colour = "var(--danger)" if point.ok is False else "var(--accent)"
        tip = f"{as_utc(point.at):%H:%M:%S}: {format_value(check, point.value)}"
        parts.append(
            f'<circle cx="{x(point.at):.1f}" cy="{y(point.value):.1f}" r="3.5" '
            f'style="fill: {colour}" data-ok="{str(point.ok).lower()}">'
            f"<title>{escape(tip)}</title></circle>"
        )
    if rollback_at is not None:
        rx = x(rollback_at)
        parts.append(
            f'<line class="rollback" x1="{rx:.1f}" y1="0" x2="{rx:.1f}" y2="{HEIGHT}" '
            'stroke="var(--warning)" stroke-width="2">'
            f"<title>rollback at {as_utc(rollback_at):%H:%M:%S} UTC</title></line>"
        )
    parts.append("</svg>")
    parts.append(
        f'<div class="trend-axis" aria-hidden="true"><span>{as_utc(points[0].at):%H:%M:%S}</span>'
        f"<span>threshold {escape(format_value(check, threshold))}"
        + (" · rollback ▮" if rollback_at else "")
        + f"</span><span>{as_utc(points[-1].at):%H:%M:%S}</span></div>"
    )
    return Markup("".join(parts))


def weekly_deploys(weeks: Sequence[dict[str, object]], *, title_id: str = "dora-weeks") -> Markup:
    """Stacked bars: production deploys per week that succeeded (green) and failed (red)."""
    counts = [(str(w["start"]), int(str(w["succeeded"])), int(str(w["failed"]))) for w in weeks]
    if not counts or not any(s + f for _, s, f in counts):
        return Markup("")
    height, gap = 80, 6
    tallest = max(s + f for _, s, f in counts)
    slot = WIDTH / len(counts)
    bar = max(2.0, slot - gap)
    failed_total = sum(f for _, _, f in counts)
    description = (
        f"{sum(s for _, s, _ in counts)} successful and {failed_total} failed production "
        f"deploys over {len(counts)} weeks."
    )
    parts = [
        f'<svg class="trend dora-weeks" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{title_id} {title_id}-desc" preserveAspectRatio="none">',
        f'<title id="{title_id}">Production deploys per week</title>',
        f'<desc id="{title_id}-desc">{escape(description)}</desc>',
    ]
    for index, (start, succeeded, failed) in enumerate(counts):
        x = index * slot + gap / 2
        base = float(height)
        for count, colour, what in (
            (succeeded, "var(--success)", "succeeded"),
            (failed, "var(--danger)", "failed"),
        ):
            if not count:
                continue
            h = (height - 2) * count / tallest
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" rx="2" '
                f'style="fill: {colour}"><title>week of {escape(start)}: {count} {what}'
                "</title></rect>"
            )
    parts.append("</svg>")
    parts.append(
        f'<div class="trend-axis" aria-hidden="true"><span>{escape(counts[0][0])}</span>'
        f"<span>most in a week: {tallest}</span><span>{escape(counts[-1][0])}</span></div>"
    )
    return Markup("".join(parts))
