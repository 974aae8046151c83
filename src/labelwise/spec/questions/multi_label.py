"""multi_label: any set of labels, optionally between min_choices and max_choices of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from labelwise.spec._base import AnswerError, show
from labelwise.spec.questions._common import few, label_layout
from labelwise.spec.questions._kind import QuestionKind, label_categories, list_labels

if TYPE_CHECKING:
    from labelwise.spec._model import QuestionSpec


def validate(question: QuestionSpec, value: object, item: Mapping[str, object]) -> object:
    """The labels in display order, so that the same choice is always stored the same way."""
    rank = question._rank
    if not isinstance(value, list):
        raise AnswerError(question.name, f"expected a list of labels; got {show(value)}")
    for label in value:
        if not (isinstance(label, str) and label in rank):
            message = f"{show(label)} is not a label; expected labels from {few(question.choices)}"
            raise AnswerError(question.name, message)
    if len(set(value)) != len(value):
        duplicate = next(label for i, label in enumerate(value) if label in value[:i])
        raise AnswerError(question.name, f"duplicate label {duplicate!r}")
    low, high = question.min_choices, question.max_choices
    if low is not None and len(value) < low:
        raise AnswerError(question.name, f"choose at least {low} labels; got {len(value)}")
    if high is not None and len(value) > high:
        raise AnswerError(question.name, f"choose at most {high} labels; got {len(value)}")
    return sorted(value, key=rank.__getitem__)


KIND = QuestionKind(
    name="multi_label",
    keys=frozenset({"labels", "min_choices", "max_choices"}),
    required=("labels",),
    validate=validate,
    categories=label_categories,
    describe=list_labels,
    layout=lambda question: label_layout(question, multiple=True),
    coding="label_sets",
    release="labels",
    consensus=("majority",),
)
