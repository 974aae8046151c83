"""text: a free-text answer, optionally at most max_length characters.

Free text almost never matches word for word, so it is not compared: no agreement figure,
no consensus, and differing texts are no disagreement to adjudicate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from labelwise.spec._base import AnswerError, show
from labelwise.spec.questions._kind import QuestionKind, no_categories

if TYPE_CHECKING:
    from labelwise.spec._model import QuestionSpec

# Up to this limit a one-line box fits what may be written; beyond it, or unlimited, a textarea.
_ONE_LINE = 200


def validate(question: QuestionSpec, value: object, item: Mapping[str, object]) -> object:
    if not isinstance(value, str):
        raise AnswerError(question.name, f"expected a string; got {show(value)}")
    limit = question.max_length
    if limit is not None and len(value) > limit:
        raise AnswerError(question.name, f"must be at most {limit} characters; got {len(value)}")
    return value


def layout(question: QuestionSpec) -> dict[str, Any]:
    limit = question.max_length
    return {"widget": "text", "long": limit is None or limit > _ONE_LINE}


KIND = QuestionKind(
    name="text",
    keys=frozenset({"max_length"}),
    required=(),
    validate=validate,
    categories=no_categories,
    describe=lambda question: "text",
    layout=layout,
    coding="none",
    release="string",
    compared=False,
)
