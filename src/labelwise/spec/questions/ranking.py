"""ranking: the labeler orders an item's responses best first.

The question names the responses, each a field of the item (`responses: [reply_1, reply_2,
reply_3]`), and an answer is every one of those names once, best first:
`["reply_2", "reply_1", "reply_3"]`. Ties are not an answer: a ranking says which of two is
better, for every pair. Agreement is Kendall's tau between annotators; consensus is the Borda
count (see `labelwise.quality.rankings`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

from labelwise.spec._base import AnswerError, show
from labelwise.spec.questions._common import few
from labelwise.spec.questions._kind import QuestionKind

if TYPE_CHECKING:
    from labelwise.spec._model import QuestionSpec


def validate(question: QuestionSpec, value: object, item: Mapping[str, object]) -> object:
    """The ranking as given: each response once, none unknown, none left out."""
    responses = question._response_rank
    if not isinstance(value, list):
        expected = f"a list of the responses best first ({few(question.response_names)})"
        raise AnswerError(question.name, f"expected {expected}; got {show(value)}")
    seen: set[str] = set()
    for entry in value:
        if not (isinstance(entry, str) and entry in responses):
            message = (
                f"{show(entry)} is not a response; responses are {few(question.response_names)}"
            )
            raise AnswerError(question.name, message)
        if entry in seen:
            raise AnswerError(question.name, f"{entry!r} is ranked twice; rank each response once")
        seen.add(entry)
    if len(seen) < len(responses):
        left = [repr(name) for name in question.response_names if name not in seen]
        verb = "is" if len(left) == 1 else "are"
        raise AnswerError(question.name, f"{few(left)} {verb} not ranked; rank every response")
    return value


def categories(question: QuestionSpec) -> tuple[Hashable, ...]:
    """The responses, in spec order: what a ranking orders and a soft label is over."""
    return question.response_names


def describe(question: QuestionSpec) -> str:
    return f"ranking of {', '.join(question.response_names)}, best first"


def layout(question: QuestionSpec) -> dict[str, Any]:
    """The responses to order; the page titles them by their fields."""
    return {"widget": "ranking", "responses": list(question.response_names)}


KIND = QuestionKind(
    name="ranking",
    keys=frozenset({"responses"}),
    required=("responses",),
    validate=validate,
    categories=categories,
    describe=describe,
    layout=layout,
    coding="rankings",
    release="ranking",
    consensus=("borda",),
    field_types=("text", "markdown", "image", "chat"),
    number_keys=2,
)
