"""preference: which of a pair of responses is better, "a" or "b", or a "tie"."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

from labelwise.spec._base import AnswerError, show
from labelwise.spec.questions._kind import QuestionKind

if TYPE_CHECKING:
    from labelwise.spec._model import QuestionSpec

PREFERENCES = ("a", "b", "tie")
_CHOSEN = frozenset(PREFERENCES)
# How the labeling page offers each answer, and how it shows one given.
_OPTIONS = [["a", "A is better"], ["b", "B is better"], ["tie", "Tie"]]
_NAMES = {"a": "A", "b": "B", "tie": "Tie"}


def validate(question: QuestionSpec, value: object, item: Mapping[str, object]) -> object:
    if isinstance(value, str) and value in _CHOSEN:
        return value
    raise AnswerError(question.name, f"expected 'a', 'b' or 'tie'; got {show(value)}")


def categories(question: QuestionSpec) -> tuple[Hashable, ...]:
    return PREFERENCES


def layout(question: QuestionSpec) -> dict[str, Any]:
    return {"widget": "options", "inline": True, "options": _OPTIONS, "names": _NAMES}


KIND = QuestionKind(
    name="preference",
    keys=frozenset({"field"}),
    required=(),
    validate=validate,
    categories=categories,
    describe=lambda question: "preference",
    layout=layout,
    coding="labels",
    release="string",
    level="nominal",
    consensus=("majority", "dawid-skene", "weighted"),
    field_types=("pair",),
    number_keys=1,
)
