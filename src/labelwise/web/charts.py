"""Charts as inline SVG, drawn on the server: bar, stacked bar and line (with intervals and a
target line).

No script and no inline style, so the page keeps its strict CSP: shapes carry only geometry,
and their colours come from classes in style.css (`series-0` ... `series-7`). Every chart also
carries its figures as a table (`Chart.columns`, `Chart.rows`), which the page shows under it,
so nothing is readable only as a picture.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 40
SERIES_CLASSES = 8  # style.css defines .series-0 ... .series-7
MAX_TICK_LABELS = 6
GRID_STEPS = 5  # gridlines above the axis; with tops of 1, 2 or 5 x 10^k the ticks stay round


Cell = str | int | float | None


@dataclass(frozen=True)
class Chart:
    """An SVG drawing and the same figures as table rows."""

    title: str
    svg: Markup
    columns: list[str]
    rows: list[list[Cell]]
    legend: list[str] = field(default_factory=list)


def _number(value: float) -> str:
    """Axis and tooltip text: integers plain, others to 3 significant figures."""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.3g}"


def _ceiling(value: float) -> float:
    """A round axis top at or above `value` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _frame(title: str, body: list[str], top: float, bottom: float = 0.0) -> Markup:
    """The svg element, its title, the y axis with its gridlines, and `body`."""
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for step in range(GRID_STEPS + 1):
        value = bottom + (top - bottom) * step / GRID_STEPS
        y = TOP + plot_h * (1 - step / GRID_STEPS)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_number(value))}</text>"
        )
    parts.extend(body)
    parts.append("</svg>")
    return Markup("".join(parts))


def _x_labels(labels: Sequence[str], centres: Sequence[float]) -> list[str]:
    """At most MAX_TICK_LABELS labels under the axis, evenly picked (always the last)."""
    if not labels:
        return []
    every = max(1, math.ceil(len(labels) / MAX_TICK_LABELS))
    y = HEIGHT - BOTTOM + 16
    shown = [i for i in range(len(labels)) if i % every == 0 or i == len(labels) - 1]
    if len(shown) > 1 and shown[-1] - shown[-2] < every:
        shown.pop(-2)  # keep the last label clear of its neighbour
    return [
        f'<text class="tick" x="{centres[i]:.1f}" y="{y}" text-anchor="middle">'
        f"{escape(labels[i])}</text>"
        for i in shown
    ]


def _y(value: float, top: float, bottom: float = 0.0) -> float:
    plot_h = HEIGHT - TOP - BOTTOM
    share = 0.0 if top == bottom else (value - bottom) / (top - bottom)
    return TOP + plot_h * (1 - share)


def _slots(n: int) -> tuple[float, list[float]]:
    """The width of each of `n` bar slots and their centres."""
    plot_w = WIDTH - LEFT - RIGHT
    slot = plot_w / max(n, 1)
    return slot, [LEFT + slot * (i + 0.5) for i in range(n)]


def bar_chart(
    title: str, label_name: str, value_name: str, bars: Sequence[tuple[str, float]]
) -> Chart:
    """One bar per (label, value)."""
    stacked = stacked_bar_chart(
        title, label_name, [label for label, _ in bars], {value_name: [v for _, v in bars]}
    )
    return Chart(title, stacked.svg, stacked.columns, stacked.rows)


def stacked_bar_chart(
    title: str, label_name: str, labels: Sequence[str], series: Mapping[str, Sequence[float]]
) -> Chart:
    """One bar per label, made of one segment per series (in the series' order)."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = _ceiling(max(totals, default=0))
    slot, centres = _slots(len(labels))
    width = max(1.0, slot * 0.8)
    body: list[str] = []
    for i, label in enumerate(labels):
        base = 0.0
        for s, (name, values) in enumerate(series.items()):
            value = values[i]
            if value <= 0:
                continue
            y_top, y_base = _y(base + value, top), _y(base, top)
            body.append(
                f'<rect class="series-{s % SERIES_CLASSES}" x="{centres[i] - width / 2:.1f}" '
                f'y="{y_top:.1f}" width="{width:.1f}" height="{y_base - y_top:.1f}">'
                f"<title>{escape(label)}: {escape(name)} {escape(_number(value))}</title></rect>"
            )
            base += value
    body.extend(_x_labels(labels, centres))
    names = list(series)
    rows: list[list[Cell]] = [
        [label, *(series[name][i] for name in names)] for i, label in enumerate(labels)
    ]
    legend = names if len(names) > 1 else []
    return Chart(title, _frame(title, body, top), [label_name, *names], rows, legend)


@dataclass(frozen=True)
class Point:
    """A value on a line, with its interval when it has one (None: not measured)."""

    value: float | None
    low: float | None = None
    high: float | None = None


def line_chart(
    title: str,
    label_name: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[Point]],
    *,
    target: float | None = None,
    floor: float | None = 0.0,
) -> Chart:
    """One line per series over `labels`, whiskers where a point has an interval, and a dashed
    target line. `floor`: the axis bottom (None: from the data, for figures that go negative)."""
    values = [
        v
        for points in series.values()
        for p in points
        for v in (p.value, p.low, p.high)
        if v is not None
    ]
    if target is not None:
        values.append(target)
    top = _ceiling(max(values, default=1.0))
    bottom = (
        floor if floor is not None else min(0.0, math.floor(min(values, default=0.0) * 10) / 10)
    )
    _, centres = _slots(len(labels))
    body: list[str] = []
    for s, (name, points) in enumerate(series.items()):
        css = f"series-{s % SERIES_CLASSES}"
        body.extend(_line(css, name, labels, centres, points, top, bottom))
    if target is not None:
        y = _y(target, top, bottom)
        body.append(
            f'<line class="target" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}">'
            f"<title>target {escape(_number(target))}</title></line>"
        )
    body.extend(_x_labels(labels, centres))
    names = list(series)
    columns = [label_name]
    for name in names:
        columns.append(name)
        if any(p.low is not None for p in series[name]):
            columns.extend([f"{name} low", f"{name} high"])
    rows: list[list[Cell]] = []
    for i, label in enumerate(labels):
        row: list[Cell] = [label]
        for name in names:
            point = series[name][i]
            row.append(point.value)
            if any(p.low is not None for p in series[name]):
                row.extend([point.low, point.high])
        if target is not None:
            row.append(target)
        rows.append(row)
    if target is not None:
        columns.append("target")
    legend = names if len(names) > 1 else []
    return Chart(title, _frame(title, body, top, bottom), columns, rows, legend)


def _line(
    css: str,
    name: str,
    labels: Sequence[str],
    centres: Sequence[float],
    points: Sequence[Point],
    top: float,
    bottom: float,
) -> list[str]:
    """The polyline through the measured points, a dot on each and its whisker."""
    body: list[str] = []
    coordinates = [
        (centres[i], _y(p.value, top, bottom)) for i, p in enumerate(points) if p.value is not None
    ]
    if len(coordinates) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
        body.append(f'<polyline class="line {css}" points="{path}"/>')
    for i, point in enumerate(points):
        if point.value is None:
            continue
        x, y = centres[i], _y(point.value, top, bottom)
        if point.low is not None and point.high is not None:
            y_low, y_high = _y(point.low, top, bottom), _y(point.high, top, bottom)
            body.append(
                f'<line class="whisker {css}" x1="{x:.1f}" x2="{x:.1f}" '
                f'y1="{y_low:.1f}" y2="{y_high:.1f}"/>'
            )
        tip = f"{labels[i]}: {name} {_number(point.value)}"
        body.append(
            f'<circle class="dot {css}" cx="{x:.1f}" cy="{y:.1f}" r="3">'
            f"<title>{escape(tip)}</title></circle>"
        )
    return body
