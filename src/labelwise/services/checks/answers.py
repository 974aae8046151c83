"""Answers that no longer fit the questions: missing, out of taxonomy or range, bad spans.

Submits are validated, so these appear when a spec changes under existing work.
"""

from __future__ import annotations

from typing import Any

from labelwise.services.checks.base import Check, Finding, Row
from labelwise.spec import AnswerError, ProjectSpec, validate_answers


class InvalidAnswers:
    name = "invalid_answers"

    def __init__(self, spec: ProjectSpec) -> None:
        self.spec = spec

    def observe(self, rows: list[Row]) -> list[Finding]:
        found = []
        for row in rows:
            try:
                validate_answers(self.spec, row.answers, row.item_data)
            except AnswerError as error:
                found.append(
                    Finding(self.name, str(error), row.item_id, row.annotation_id, row.user_id)
                )
        return found

    def conclude(self) -> list[Finding]:
        return []


def make(spec: ProjectSpec, _context: dict[str, Any]) -> Check | None:
    return InvalidAnswers(spec) if spec.quality.checks.invalid_answers else None
