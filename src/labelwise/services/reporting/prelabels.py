"""How labelers took each model's suggestions: accepted, edited and rejected counts and rates,
per model and per predicted label, from what each annotation recorded when it was made
(`services.workflow.prelabels`). Streamed: memory grows with models and labels only."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from labelwise.db.models import Annotation
from labelwise.states import PrelabelOutcome

PAGE = 5000
_OUTCOMES = tuple(PrelabelOutcome)


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Answers given with a suggestion shown, by what became of it; each rate is its count
    over `shown` (None when nothing was shown)."""

    shown: int
    accepted: int
    edited: int
    rejected: int
    acceptance_rate: float | None
    edit_rate: float | None
    rejection_rate: float | None

    @classmethod
    def of(cls, counts: Counter[str]) -> Outcomes:
        shown = sum(counts[o] for o in _OUTCOMES)
        rates = [counts[o] / shown if shown else None for o in _OUTCOMES]
        return cls(shown, *(counts[o] for o in _OUTCOMES), *rates)


@dataclass(frozen=True, slots=True)
class LabelAcceptance:
    """One label a model predicted for a question (a span's label, each label of a
    multi-label answer), and what labelers made of it."""

    question: str
    label: str
    outcomes: Outcomes


@dataclass(frozen=True, slots=True)
class ModelAcceptance:
    """One model: its suggestions as whole answers (`outcomes`) and per predicted label."""

    model: str
    outcomes: Outcomes
    labels: list[LabelAcceptance]


def acceptance(connection: Connection, project_id: int) -> list[ModelAcceptance]:
    """Every model whose suggestions were shown in the project, by name."""
    query = (
        select(Annotation.prelabel_model, Annotation.prelabel_outcome, Annotation.prelabel)
        .where(Annotation.project_id == project_id, Annotation.prelabel_model.is_not(None))
        .execution_options(yield_per=PAGE)
    )
    whole: dict[str, Counter[str]] = {}
    labels: dict[str, dict[tuple[str, str], Counter[str]]] = {}
    for model, outcome, detail in connection.execute(query):
        whole.setdefault(model, Counter())[outcome] += 1
        per_label = labels.setdefault(model, {})
        for question, judged in (detail or {}).items():
            for label, label_outcome in judged.get("labels", ()):
                per_label.setdefault((question, label), Counter())[label_outcome] += 1
    return [
        ModelAcceptance(model, Outcomes.of(counts), _labels(labels[model].items()))
        for model, counts in sorted(whole.items())
    ]


def _labels(counts: Iterable[tuple[tuple[str, str], Counter[str]]]) -> list[LabelAcceptance]:
    return [
        LabelAcceptance(question, label, Outcomes.of(outcomes))
        for (question, label), outcomes in sorted(counts)
    ]
