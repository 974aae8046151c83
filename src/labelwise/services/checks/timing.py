"""Answers given too fast to have been read: under a fixed time, or the project's low tail."""

from __future__ import annotations

from typing import Any

import numpy as np

from labelwise.services.checks.base import Check, Finding, Row
from labelwise.spec import ProjectSpec

DEFAULT_PERCENTILE = 5.0


class TooFast:
    name = "too_fast"

    def __init__(self, min_ms: int | None, percentile: float | None) -> None:
        self.min_ms = min_ms
        if percentile is None and min_ms is None:
            percentile = DEFAULT_PERCENTILE
        self.percentile = percentile
        self.times: list[np.ndarray] = []
        self.keys: list[tuple[int, int, int]] = []

    def observe(self, rows: list[Row]) -> list[Finding]:
        timed = [row for row in rows if row.time_ms is not None]
        if self.percentile is not None:
            self.times.append(np.fromiter((r.time_ms for r in timed), dtype=np.int64))
            self.keys.extend((r.item_id, r.annotation_id, r.user_id) for r in timed)
        if self.min_ms is None:
            return []
        limit = self.min_ms
        return [
            _finding(r.item_id, r.annotation_id, r.user_id, r.time_ms or 0, "the minimum", limit)
            for r in timed
            if (r.time_ms or 0) < limit
        ]

    def conclude(self) -> list[Finding]:
        if self.percentile is None or not self.keys:
            return []
        times = np.concatenate(self.times)
        threshold = float(np.percentile(times, self.percentile))
        rule = f"the project's {self.percentile:g}th percentile"
        return [
            _finding(*self.keys[i], int(times[i]), rule, threshold)
            for i in np.flatnonzero(times < threshold)
        ]


def _finding(
    item_id: int, annotation_id: int, user_id: int, ms: int, rule: str, limit: float
) -> Finding:
    message = f"answered in {ms} ms, under {rule} ({limit:.0f} ms)"
    return Finding(TooFast.name, message, item_id, annotation_id, user_id)


def make(spec: ProjectSpec, _context: dict[str, Any]) -> Check | None:
    rule = spec.quality.checks.too_fast
    return TooFast(rule.min_ms, rule.percentile) if rule else None
