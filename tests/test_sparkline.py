"""The inline SVG charts: points on the scale, gaps for missing weeks, nothing the CSP blocks."""

from __future__ import annotations

import re

from labelwise.web import sparkline


def test_a_line_breaks_at_a_missing_value_and_stays_on_its_scale() -> None:
    svg = str(sparkline.line([0.0, 1.0, None, 2.0], "gold <per> week"))
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 1
    points = re.search(r'points="([^"]+)"', svg)
    assert points and points.group(1) == f"2.0,{sparkline.HEIGHT - 2:.1f} 54.0,2.0"
    assert 'cy="2.0"' in svg  # 2.0 is above the scale: drawn at its top
    assert 'aria-label="gold &lt;per&gt; week"' in svg and "style" not in svg


def test_bars_scale_to_the_largest() -> None:
    svg = str(sparkline.bars([2, 4, 0], "annotations"))
    heights = [float(h) for h in re.findall(r'height="([\d.]+)"', svg)[1:]]
    assert heights == [14.0, 28.0, 0.0]
