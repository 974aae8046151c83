"""Disagreement with a confident model: suspected label errors among the consensus labels.

For each single-label question with text to read (its `field`, else every text field), the
built-in baseline is trained out of fold on the items' current consensus (a strict majority
of their answers) and confident learning names the items whose label it is sure is wrong
(`labelwise.learning`). The finding points at an answer that gave the suspect label, so
`send_to_review` sends the item back to review with the model's reason.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from labelwise.learning import DESCRIPTION
from labelwise.services.checks.base import Check, Finding, Row
from labelwise.spec import ProjectSpec, QuestionSpec


class ModelDisagreement:
    name = "model_disagreement"

    def __init__(self, questions: dict[str, list[str]], min_items: int) -> None:
        self.questions, self.min_items = questions, min_items  # question -> fields it reads
        self.texts: dict[int, str] = {}
        self.votes: dict[str, dict[int, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
        self.givers: dict[tuple[str, int, str], int] = {}  # (question, item, label) -> annotation

    def observe(self, rows: list[Row]) -> list[Finding]:
        for row in rows:
            for question, fields in self.questions.items():
                label = row.answers.get(question)
                if not isinstance(label, str):
                    continue
                if row.item_id not in self.texts:
                    self.texts[row.item_id] = "\n".join(
                        str(row.item_data.get(f, "")) for f in fields
                    )
                self.votes[question][row.item_id][label] += 1
                self.givers.setdefault((question, row.item_id, label), row.annotation_id)
        return []

    def conclude(self) -> list[Finding]:
        from labelwise.learning.baseline import out_of_fold  # scikit-learn: only when used
        from labelwise.learning.label_errors import suspects

        found = []
        for question, by_item in self.votes.items():
            items, labels = [], []
            for item_id, counts in by_item.items():
                (label, votes), *_ = counts.most_common(1)
                if votes * 2 > counts.total():
                    items.append(item_id)
                    labels.append(label)
            if len(items) < self.min_items:
                continue
            scored = out_of_fold([self.texts[item_id] for item_id in items], labels)
            for suspect in suspects(scored) if scored else []:
                item_id = items[suspect.index]
                message = (
                    f"{question}: the consensus {suspect.label!r} looks wrong to a model trained "
                    f"on the other items ({DESCRIPTION}): it gives {suspect.suggested!r} "
                    f"{suspect.probability:.0%}, {suspect.label!r} {suspect.label_probability:.0%}"
                )
                annotation = self.givers[(question, item_id, suspect.label)]
                found.append(Finding(self.name, message, item_id, annotation))
        return found


def make(spec: ProjectSpec, _context: dict[str, Any]) -> Check | None:
    rule = spec.quality.checks.model_disagreement
    if rule is None:
        return None
    texts = [f.name for f in spec.fields if f.type == "text"]
    questions = {q.name: _read_by(q, texts) for q in spec.questions if q.type == "single_label"}
    questions = {name: fields for name, fields in questions.items() if fields}
    return ModelDisagreement(questions, rule.min_items) if questions else None


def _read_by(question: QuestionSpec, texts: list[str]) -> list[str]:
    return [question.field] if question.field in texts else texts
