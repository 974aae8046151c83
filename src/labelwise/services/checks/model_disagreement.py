"""Disagreement with a confident model: suspected label errors among the consensus labels.

For each single-label question with text to read (its `field`, else every text field), the
built-in baseline is trained out of fold on the items' current consensus (a strict majority
of their answers) and confident learning names the items whose label it is sure is wrong
(`labelwise.learning`). A multi-label question is learned a label at a time, as cleanlab's
multi-label filter does: for each label, whether a strict majority gave it, and an item is
suspect for each label the model is confident the consensus got wrong (given or left out).
The finding points at an answer that took the suspect side, so `send_to_review` sends the item
back to review with the model's reason.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

from labelwise.learning import DESCRIPTION
from labelwise.services.checks.base import Check, Finding, Row
from labelwise.spec import ProjectSpec, QuestionSpec

LEARNED = ("single_label", "multi_label")
HAS, LACKS = "given", "left out"  # a multi-label question's two classes, for one label
Given = dict[int, list[tuple[int, Any]]]  # item -> each (annotation, label or set of labels)


class ModelDisagreement:
    name = "model_disagreement"

    def __init__(self, questions: dict[str, list[str]], multi: set[str], min_items: int) -> None:
        self.questions, self.min_items = questions, min_items  # question -> fields it reads
        self.multi = multi  # the multi-label ones
        self.texts: dict[int, str] = {}
        self.given: dict[str, Given] = defaultdict(lambda: defaultdict(list))

    def observe(self, rows: list[Row]) -> list[Finding]:
        for row in rows:
            for question, fields in self.questions.items():
                answer = row.answers.get(question)
                if question in self.multi and isinstance(answer, list):
                    answer = frozenset(answer)
                elif not isinstance(answer, str):
                    continue
                if row.item_id not in self.texts:
                    self.texts[row.item_id] = "\n".join(
                        str(row.item_data.get(f, "")) for f in fields
                    )
                self.given[question][row.item_id].append((row.annotation_id, answer))
        return []

    def conclude(self) -> list[Finding]:
        found: list[Finding] = []
        for question, by_item in self.given.items():
            for label, consensus in _tasks(by_item, question in self.multi):
                found.extend(self._suspects(question, label, consensus, by_item))
        return found

    def _suspects(
        self, question: str, label: str | None, consensus: dict[int, str], by_item: Given
    ) -> Iterator[Finding]:
        """The items whose consensus (of one label, for a multi-label question) the model is
        sure is wrong, each pointing at an annotation that gave that consensus."""
        from labelwise.learning.baseline import out_of_fold  # scikit-learn: only when used
        from labelwise.learning.label_errors import suspects

        if len(consensus) < self.min_items:
            return
        items = list(consensus)
        scored = out_of_fold([self.texts[i] for i in items], [consensus[i] for i in items])
        for suspect in suspects(scored) if scored else []:
            item_id = items[suspect.index]
            if label is None:
                said = f"the consensus {suspect.label!r} looks wrong"
                says = f"{suspect.suggested!r} {suspect.probability:.0%}, "
                says += f"{suspect.label!r} {suspect.label_probability:.0%}"
            else:
                said = f"the consensus has {label!r} {suspect.label}; that looks wrong"
                given = suspect.label_probability if suspect.label == HAS else suspect.probability
                says = f"{label!r} {given:.0%}"
            message = (
                f"{question}: {said} to a model trained on the other items ({DESCRIPTION}): "
                f"it gives {says}"
            )
            annotation = next(
                a for a, answer in by_item[item_id] if _side(answer, label) == suspect.label
            )
            yield Finding(self.name, message, item_id, annotation)


def _tasks(by_item: Given, multi: bool) -> Iterator[tuple[str | None, dict[int, str]]]:
    """What to learn: the question's label per item, or for a multi-label question, per
    label, whether the item has it; only items where a strict majority says so."""
    labels: list[str | None] = (
        sorted(set().union(*(a for given in by_item.values() for _, a in given)))
        if multi
        else [None]
    )
    for label in labels:
        consensus = {}
        for item_id, given in by_item.items():
            (side, votes), *_ = Counter(_side(a, label) for _, a in given).most_common(1)
            if votes * 2 > len(given):
                consensus[item_id] = side
        yield label, consensus


def _side(answer: Any, label: str | None) -> str:
    """The class an answer is of: its label, or whether it gives `label` (multi-label)."""
    if label is None:
        return str(answer)
    return HAS if label in answer else LACKS


def make(spec: ProjectSpec, _context: dict[str, Any]) -> Check | None:
    rule = spec.quality.checks.model_disagreement
    if rule is None:
        return None
    texts = [f.name for f in spec.fields if f.type == "text"]
    questions = {q.name: _read_by(q, texts) for q in spec.questions if q.type in LEARNED}
    questions = {name: fields for name, fields in questions.items() if fields}
    multi = {q.name for q in spec.questions if q.type == "multi_label"}
    return ModelDisagreement(questions, multi, rule.min_items) if questions else None


def _read_by(question: QuestionSpec, texts: list[str]) -> list[str]:
    return [question.field] if question.field in texts else texts
