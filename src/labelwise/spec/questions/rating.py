"""rating: an integer on a scale from min to max, whose steps are ordered (ordinal)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

from labelwise.spec._base import AnswerError, show
from labelwise.spec.questions._common import bounds, is_int
from labelwise.spec.questions._kind import QuestionKind

if TYPE_CHECKING:
    from labelwise.spec._model import QuestionSpec

# Wider scales get a number box: a row of 20 buttons helps nobody.
_MOST_BUTTONS = 11


def validate(question: QuestionSpec, value: object, item: Mapping[str, object]) -> object:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    low, high = question._range
    if not (is_int(value) and low <= value <= high):
        message = f"expected an integer from {question.min} to {question.max}; got {show(value)}"
        raise AnswerError(question.name, message)
    return value


def scale(question: QuestionSpec) -> tuple[Hashable, ...]:
    """Every step of the scale, the categories its answers are counted in."""
    assert question.min is not None and question.max is not None  # the spec requires them
    return tuple(range(int(question.min), int(question.max) + 1))


def layout(question: QuestionSpec) -> dict[str, Any]:
    steps = scale(question)
    if len(steps) > _MOST_BUTTONS:
        return {"widget": "number", "integer": True}
    return {"widget": "options", "inline": True, "options": [[v, str(v)] for v in steps]}


KIND = QuestionKind(
    name="rating",
    keys=frozenset({"min", "max"}),
    required=("min", "max"),
    validate=validate,
    categories=scale,
    describe=bounds,
    layout=layout,
    coding="labels",
    release="integer",
    level="ordinal",
    consensus=("majority", "dawid-skene", "weighted"),
    integer_bounds=True,
    straight_lining=True,
)
