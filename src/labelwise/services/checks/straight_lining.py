"""Straight-lining: one person giving one label far more often than everyone else does."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from labelwise.services.checks.base import Check, Finding, Row
from labelwise.spec import ProjectSpec


class StraightLining:
    name = "straight_lining"

    def __init__(self, questions: list[str], min_items: int, margin: float) -> None:
        self.questions, self.min_items, self.margin = questions, min_items, margin
        self.overall: dict[str, Counter[str]] = defaultdict(Counter)
        self.per_person: dict[tuple[str, int, str], Counter[str]] = defaultdict(Counter)

    def observe(self, rows: list[Row]) -> list[Finding]:
        for row in rows:
            for question in self.questions:
                label = row.answers.get(question)
                if isinstance(label, str):
                    self.overall[question][label] += 1
                    self.per_person[(question, row.user_id, row.username)][label] += 1
        return []

    def conclude(self) -> list[Finding]:
        found = []
        for (question, user_id, username), counts in self.per_person.items():
            given = sum(counts.values())
            if given < self.min_items:
                continue
            label, top = counts.most_common(1)[0]
            share = top / given
            base = self.overall[question][label] / sum(self.overall[question].values())
            if share - base > self.margin:
                message = (
                    f"{username} answered {question} = {label!r} on {share:.0%} of {given} items;"
                    f" everyone together: {base:.0%}"
                )
                found.append(Finding(self.name, message, user_id=user_id))
        return found


def make(spec: ProjectSpec, _context: dict[str, Any]) -> Check | None:
    rule = spec.quality.checks.straight_lining
    questions = [q.name for q in spec.questions if q.kind.straight_lining]
    if rule is None or not questions:
        return None
    return StraightLining(questions, rule.min_items, rule.margin)
