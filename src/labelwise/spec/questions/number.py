"""number: any finite number, optionally within min and max (interval level)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from labelwise.spec._base import AnswerError, show
from labelwise.spec.questions._common import bounds, is_finite
from labelwise.spec.questions._kind import QuestionKind, no_categories

if TYPE_CHECKING:
    from labelwise.spec._model import QuestionSpec


def validate(question: QuestionSpec, value: object, item: Mapping[str, object]) -> object:
    low, high = question._range
    if not (is_finite(value) and low <= value <= high):
        raise AnswerError(question.name, f"expected {_expected(question)}; got {show(value)}")
    return value


def _expected(question: QuestionSpec) -> str:
    low, high = question.min, question.max
    if low is not None and high is not None:
        return f"a number from {low} to {high}"
    if low is not None:
        return f"a number of at least {low}"
    if high is not None:
        return f"a number of at most {high}"
    return "a finite number"


KIND = QuestionKind(
    name="number",
    keys=frozenset({"min", "max"}),
    required=(),
    validate=validate,
    categories=no_categories,
    describe=bounds,
    layout=lambda question: {"widget": "number", "integer": False},
    coding="numbers",
    release="number",
    level="interval",
    consensus=("median", "mean"),
)
