"""Annotators whose gold accuracy is, with 95% confidence, under the project's minimum."""

from __future__ import annotations

from typing import Any

from labelwise.services.checks.base import Check, Finding, Row
from labelwise.services.gold import GoldScore
from labelwise.spec import ProjectSpec


class LowGoldAccuracy:
    name = "low_gold_accuracy"

    def __init__(self, context: dict[str, Any], minimum: float) -> None:
        self.context, self.minimum = context, minimum  # read in `conclude`, when it runs

    def observe(self, rows: list[Row]) -> list[Finding]:
        return []

    def conclude(self) -> list[Finding]:
        scores: list[GoldScore] = self.context["gold_scores"]()
        user_ids: dict[str, int] = self.context["user_ids"]()
        return [
            Finding(
                self.name,
                f"{s.annotator}: {s.correct} of {s.answered} gold items right ({s.accuracy:.0%};"
                f" 95% interval {s.low:.0%}-{s.high:.0%}), under {self.minimum:.0%}",
                user_id=user_ids.get(s.annotator),
            )
            for s in scores
            if s.high < self.minimum
        ]


def make(spec: ProjectSpec, context: dict[str, Any]) -> Check | None:
    rule = spec.quality.checks.low_gold_accuracy
    if rule is None:
        return None
    return LowGoldAccuracy(context, rule.min_accuracy)
