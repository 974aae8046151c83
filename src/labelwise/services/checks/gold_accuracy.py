"""Annotators whose gold accuracy is, with 95% confidence, under the project's minimum."""

from __future__ import annotations

from typing import Any

from labelwise.services.checks.base import Check, Finding, Row
from labelwise.services.gold import GoldScore
from labelwise.spec import ProjectSpec


class LowGoldAccuracy:
    name = "low_gold_accuracy"

    def __init__(self, scores: list[GoldScore], user_ids: dict[str, int], minimum: float) -> None:
        self.scores, self.user_ids, self.minimum = scores, user_ids, minimum

    def observe(self, rows: list[Row]) -> list[Finding]:
        return []

    def conclude(self) -> list[Finding]:
        return [
            Finding(
                self.name,
                f"{s.annotator}: {s.correct} of {s.answered} gold items right ({s.accuracy:.0%};"
                f" 95% interval {s.low:.0%}-{s.high:.0%}), under {self.minimum:.0%}",
                user_id=self.user_ids.get(s.annotator),
            )
            for s in self.scores
            if s.high < self.minimum
        ]


def make(spec: ProjectSpec, context: dict[str, Any]) -> Check | None:
    rule = spec.quality.checks.low_gold_accuracy
    if rule is None:
        return None
    return LowGoldAccuracy(context["gold_scores"](), context["user_ids"](), rule.min_accuracy)
