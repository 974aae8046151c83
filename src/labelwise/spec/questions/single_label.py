"""single_label: one label, or one leaf path of a taxonomy ("hardware/laptop")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from labelwise.spec._base import AnswerError, show
from labelwise.spec.questions._common import few, label_layout
from labelwise.spec.questions._kind import QuestionKind, label_categories, list_labels

if TYPE_CHECKING:
    from labelwise.spec._model import QuestionSpec


def validate(question: QuestionSpec, value: object, item: Mapping[str, object]) -> object:
    if isinstance(value, str):
        if value in question._rank:
            return value
        under = [choice for choice in question.choices if choice.startswith(value + "/")]
        if under:
            raise AnswerError(question.name, f"{value!r} is a category; pick one of {few(under)}")
    raise AnswerError(question.name, f"expected one of {few(question.choices)}; got {show(value)}")


KIND = QuestionKind(
    name="single_label",
    keys=frozenset({"labels"}),
    required=("labels",),
    validate=validate,
    categories=label_categories,
    describe=list_labels,
    layout=lambda question: label_layout(question, multiple=False),
    coding="labels",
    release="label",
    level="nominal",
    consensus=("majority", "dawid-skene", "weighted"),
    straight_lining=True,
    number_keys=0,
)
