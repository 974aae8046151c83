"""Small inline SVG charts drawn on the server: no chart library, no script, nothing the
strict CSP would block (presentation attributes only, never a style attribute).

Values are numbers placed by the server itself, so the markup holds no user text but the
escaped accessible label.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 160, 32, 2


def line(values: Sequence[float | None], label: str, low: float = 0.0, high: float = 1.0) -> Markup:
    """A line over `values` on the scale low..high; None leaves a gap (a week without data)."""
    runs: list[list[str]] = [[]]
    for index, value in enumerate(values):
        if value is None:
            runs.append([])
            continue
        runs[-1].append(f"{_x(index, len(values)):.1f},{_y(value, low, high):.1f}")
    shapes = [
        f'<polyline points="{" ".join(run)}" fill="none" stroke="currentColor" stroke-width="1.5"/>'
        if len(run) > 1
        else f'<circle cx="{run[0].split(",")[0]}" cy="{run[0].split(",")[1]}" r="1.8" '
        'fill="currentColor"/>'
        for run in runs
        if run
    ]
    return _svg(label, "".join(shapes))


def bars(values: Sequence[int], label: str) -> Markup:
    """One bar per value, scaled to the largest."""
    top = max(values, default=0) or 1
    step = (WIDTH - 2 * PAD) / max(len(values), 1)
    shapes = []
    for index, value in enumerate(values):
        height = (HEIGHT - 2 * PAD) * value / top
        x, y = PAD + index * step, HEIGHT - PAD - height
        width = max(step - 1, 1)
        shapes.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
            'fill="currentColor"/>'
        )
    return _svg(label, "".join(shapes))


def _x(index: int, count: int) -> float:
    if count < 2:
        return WIDTH / 2
    return PAD + index * (WIDTH - 2 * PAD) / (count - 1)


def _y(value: float, low: float, high: float) -> float:
    share = (min(max(value, low), high) - low) / ((high - low) or 1)
    return HEIGHT - PAD - share * (HEIGHT - 2 * PAD)


def _svg(label: str, shapes: str) -> Markup:
    return Markup(
        f'<svg class="sparkline" role="img" aria-label="{escape(label)}" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}">{shapes}</svg>'
    )
