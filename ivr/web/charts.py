"""Report charts as inline SVG, built from the report series: pure functions, no I/O.

Every bar and line is labelled where it is drawn (value above each bar, the
series' name at the end of each line), so a chart reads without a legend. Text
is escaped; colours are SVG presentation attributes or classes of the shared
style sheet, never ``style=`` attributes (the page's CSP forbids inline styles).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from ivr.domain.reports import DayPoint, HourPoint

WIDTH = 600
HEIGHT = 260
TOP = 50  # room for the visible title and the value labels above the tallest bar
BOTTOM = 36  # room for the category labels
LEFT = 12
RIGHT = 96  # room for the line labels at the right end
NAME_GAP = 15  # least vertical distance between two line names


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its category label, its value (None: no data) and the label shown on it."""

    label: str
    value: float | None
    text: str


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a line chart: its name (written at its end) and one value per category."""

    name: str
    values: tuple[float | None, ...]
    css: str  # class of the shared style sheet: line-a, line-b


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _svg(title: str, body: list[str], chart_id: str, *, empty: bool = False) -> str:
    """The chart with its title written on it (not only in a tooltip), and a plain
    "no data" note instead of a blank plot."""
    note = (
        f'<text class="empty" x="{WIDTH / 2:.0f}" y="{(TOP + HEIGHT - BOTTOM) / 2:.0f}" '
        f'text-anchor="middle" font-size="13">No data in this range</text>'
        if empty
        else ""
    )
    return (
        f'<svg class="chart" id="{escape(chart_id)}" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'aria-labelledby="{escape(chart_id)}-title">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<text class="chart-title" x="{LEFT}" y="20" font-size="16" font-weight="600">'
        f"{escape(title)}</text>" + note + "".join(body) + "</svg>"
    )


def _axis(plot_bottom: int) -> str:
    return (
        f'<line class="axis" x1="{LEFT}" y1="{plot_bottom}" x2="{WIDTH - RIGHT}" '
        f'y2="{plot_bottom}" stroke="#888" />'
    )


def bar_chart(
    title: str, bars: Sequence[Bar], chart_id: str, *, label_every: int = 1, top: float = 0.0
) -> str:
    """Vertical bars, each with its value written above it and its category below.

    ``top`` fixes the scale's maximum (100 for percentages); otherwise the largest
    value. Bars without data are left out, their category still labelled.
    """
    plot_bottom = HEIGHT - BOTTOM
    span = plot_bottom - TOP
    highest = max([top, *(b.value for b in bars if b.value is not None)], default=0.0)
    slot = (WIDTH - LEFT - RIGHT) / max(len(bars), 1)
    width = max(slot * 0.7, 1.0)
    body = [_axis(plot_bottom)]
    for n, bar in enumerate(bars):
        x = LEFT + n * slot + (slot - width) / 2
        centre = x + width / 2
        if bar.value is not None:
            height = span * bar.value / highest if highest > 0 else 0.0
            y = plot_bottom - height
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
                f'height="{height:.1f}" fill="#457b9d"><title>{escape(bar.label)}: '
                f"{escape(bar.text)}</title></rect>"
            )
            body.append(
                f'<text class="value" x="{centre:.1f}" y="{y - 4:.1f}" '
                f'text-anchor="middle" font-size="13">{escape(bar.text)}</text>'
            )
        if n % label_every == 0:
            body.append(
                f'<text class="category" x="{centre:.1f}" y="{plot_bottom + 16}" '
                f'text-anchor="middle" font-size="13">{escape(bar.label)}</text>'
            )
    return _svg(title, body, chart_id, empty=all(b.value is None for b in bars))


def line_chart(
    title: str, categories: Sequence[str], lines: Sequence[Line], chart_id: str, unit: str = ""
) -> str:
    """Lines over categories, each named at its last point and each point labelled."""
    plot_bottom = HEIGHT - BOTTOM
    span = plot_bottom - TOP
    highest = max((v for line in lines for v in line.values if v is not None), default=0.0)
    slot = (WIDTH - LEFT - RIGHT) / max(len(categories), 1)
    body = [_axis(plot_bottom)]
    for n, label in enumerate(categories):
        if n % 2 == 0:
            x = LEFT + n * slot + slot / 2
            body.append(
                f'<text class="category" x="{x:.1f}" y="{plot_bottom + 16}" '
                f'text-anchor="middle" font-size="13">{escape(label)}</text>'
            )
    names_at: list[float] = []  # heights of the line names written so far
    for line in lines:
        points = [
            (LEFT + n * slot + slot / 2, plot_bottom - (span * v / highest if highest else 0), v, n)
            for n, v in enumerate(line.values)
            if v is not None
        ]
        if not points:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _v, _n in points)
        body.append(
            f'<polyline class="{escape(line.css)}" points="{path}" fill="none" stroke-width="2" />'
        )
        for x, y, v, n in points:
            body.append(f'<circle class="{escape(line.css)}" cx="{x:.1f}" cy="{y:.1f}" r="3" />')
            # A value an earlier line already wrote at the same point is not written twice.
            if not any(other.values[n] == v for other in lines[: lines.index(line)]):
                body.append(
                    f'<text class="value" x="{x:.1f}" y="{y - 6:.1f}" text-anchor="middle" '
                    f'font-size="12">{escape(_fmt(v) + unit)}</text>'
                )
        x, y, _v, _n = points[-1]
        # Lines that end together would write their names on top of each other.
        y_name = y + 4
        while any(abs(y_name - used) < NAME_GAP for used in names_at):
            y_name += NAME_GAP
        names_at.append(y_name)
        body.append(
            f'<text class="line-name {escape(line.css)}" x="{x + 8:.1f}" y="{y_name:.1f}" '
            f'font-size="13">{escape(line.name)}</text>'
        )
    empty = all(v is None for line in lines for v in line.values)
    return _svg(title, body, chart_id, empty=empty)


def calls_per_hour_chart(hours: Sequence[HourPoint], day: str) -> str:
    """Calls started in each hour of a day, the count written on each bar."""
    bars = [Bar(f"{p.hour:02d}", p.calls if p.calls else None, str(p.calls)) for p in hours]
    return bar_chart(f"Calls per hour on {day}", bars, "chart-calls", label_every=2)


def waits_per_hour_chart(hours: Sequence[HourPoint], day: str) -> str:
    """Average and 90th-percentile queue wait per hour, in seconds, each line named at its end."""
    return line_chart(
        f"Queue waits per hour on {day} (seconds)",
        [f"{p.hour:02d}" for p in hours],
        [
            Line("average", tuple(p.average_wait for p in hours), "line-a"),
            Line("90th pct", tuple(p.p90_wait for p in hours), "line-b"),
        ],
        "chart-waits",
        unit="s",
    )


def sla_per_day_chart(days: Sequence[DayPoint]) -> str:
    """SLA compliance of each day's tickets, the percentage (and ticket count) on each bar."""
    bars = []
    for p in days:
        share = p.sla.compliance
        label = p.day.strftime("%a %d")
        if share is None:
            bars.append(Bar(label, None, ""))
        else:
            decided = p.sla.in_time + p.sla.breached
            bars.append(Bar(label, 100 * share, f"{100 * share:.0f}% of {decided}"))
    every = max(1, len(days) // 14)
    return bar_chart("SLA compliance per day (%)", bars, "chart-sla", label_every=every, top=100)
