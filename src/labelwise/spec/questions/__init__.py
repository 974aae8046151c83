"""Question types: one module per type, registered in one table.

Each module holds everything about its type (spec keys, answer check, how QC codes and
aggregates it, how a release writes it, what the labeling page draws) as one `QuestionKind`;
the spec, the quality report, consensus, releases and the pages ask the kind rather than
testing the type's name. CONTRIBUTING.md says how to add a type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from labelwise.spec.questions import (
    multi_label,
    number,
    preference,
    ranking,
    rating,
    single_label,
    spans,
    text,
)
from labelwise.spec.questions._kind import Coding, Level, QuestionKind, ReleaseValue

if TYPE_CHECKING:
    from labelwise.spec._model import ProjectSpec

# In the order the spec's QuestionType lists them (the docs and error messages use it).
QUESTION_TYPES: dict[str, QuestionKind] = {
    kind.name: kind
    for kind in (
        single_label.KIND,
        multi_label.KIND,
        spans.KIND,
        rating.KIND,
        number.KIND,
        text.KIND,
        preference.KIND,
        ranking.KIND,
    )
}


def question_type(name: str) -> QuestionKind:
    """The kind registered as `name`; KeyError naming the known ones otherwise."""
    try:
        return QUESTION_TYPES[name]
    except KeyError:
        raise KeyError(
            f"no question type {name!r}; types are {', '.join(QUESTION_TYPES)}"
        ) from None


def page_layout(spec: ProjectSpec) -> dict[str, dict[str, Any]]:
    """Per question, what the labeling page draws (see each kind's `layout`), and `keys`:
    whether the number keys answer it (the first question of the best-ranked kind)."""
    ranked = [
        (kind.number_keys, index)
        for index, question in enumerate(spec.questions)
        if (kind := question.kind).number_keys is not None
    ]
    keyed = spec.questions[min(ranked)[1]].name if ranked else None
    return {q.name: {**q.kind.layout(q), "keys": q.name == keyed} for q in spec.questions}


__all__ = [
    "QUESTION_TYPES",
    "Coding",
    "Level",
    "QuestionKind",
    "ReleaseValue",
    "page_layout",
    "question_type",
]
