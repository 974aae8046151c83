"""spans: labelled character ranges [start, end) of a text or markdown field (NER).

`[]` is an answer ("nothing to mark"), not a blank. A release takes the spans a strict
majority of annotators marked identically; agreement is pairwise span F1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from labelwise.spec._base import AnswerError, show
from labelwise.spec.questions._common import few, is_int
from labelwise.spec.questions._kind import QuestionKind, label_categories, list_labels

if TYPE_CHECKING:
    from labelwise.spec._model import QuestionSpec

_SHAPE = '{"start": int, "end": int, "label": str}'


def validate(question: QuestionSpec, value: object, item: Mapping[str, object]) -> object:
    """The spans sorted by (start, end, label); repeats refused, overlaps where not allowed."""
    if not isinstance(value, list):
        raise AnswerError(question.name, f"expected a list of spans; got {show(value)}")
    text = item.get(question.field or "")
    if not isinstance(text, str):
        raise AnswerError(question.name, f"the item has no text in field {question.field!r}")
    spans = sorted((_span(question, i, span, len(text)), i) for i, span in enumerate(value))
    reach, reacher = 0, -1  # the furthest end so far, and the span that reaches it
    for position, ((start, end, label), index) in enumerate(spans):
        if position and spans[position - 1][0] == (start, end, label):
            raise AnswerError(question.name, f"span {index} repeats span {spans[position - 1][1]}")
        if start < reach and not question.allow_overlap:
            message = f"span {index} overlaps span {reacher}; this question allows no overlap"
            raise AnswerError(question.name, message)
        if end > reach:
            reach, reacher = end, index
    return [{"start": start, "end": end, "label": label} for (start, end, label), _ in spans]


def _span(question: QuestionSpec, index: int, span: object, size: int) -> tuple[int, int, str]:
    if not isinstance(span, dict) or span.keys() != {"start", "end", "label"}:
        got = f"keys {', '.join(sorted(map(str, span)))}" if isinstance(span, dict) else show(span)
        raise AnswerError(question.name, f"span {index}: expected {_SHAPE}; got {got}")
    start, end, label = span["start"], span["end"], span["label"]
    if not (is_int(start) and is_int(end) and 0 <= start < end <= size):
        message = (
            f"span {index}: expected integers 0 <= start < end <= {size} "
            f"(the length of {question.field!r}); got start {show(start)}, end {show(end)}"
        )
        raise AnswerError(question.name, message)
    if not (isinstance(label, str) and label in question._rank):
        message = f"span {index}: {show(label)} is not one of {few(question.choices)}"
        raise AnswerError(question.name, message)
    return start, end, label


def majority(answers: list[Any]) -> list[dict[str, Any]]:
    """The spans a strict majority of the annotators marked identically, in order."""
    half = len(answers) / 2
    marks = Counter((s["start"], s["end"], s["label"]) for spans in answers for s in spans)
    chosen = sorted(mark for mark, votes in marks.items() if votes > half)
    return [{"start": start, "end": end, "label": label} for start, end, label in chosen]


def canonical(answer: Any) -> Any:
    """Each span's keys as start, end, label, so the same release gives the same bytes."""
    if not isinstance(answer, list):
        return answer
    return [
        {"start": s.get("start"), "end": s.get("end"), "label": s.get("label")}
        if isinstance(s, dict)
        else s
        for s in answer
    ]


KIND = QuestionKind(
    name="spans",
    keys=frozenset({"labels", "field", "allow_overlap"}),
    required=("labels", "field"),
    validate=validate,
    categories=label_categories,
    describe=list_labels,
    layout=lambda question: {"widget": "spans", "choices": list(question.choices)},
    coding="spans",
    release="spans",
    majority=majority,
    canonical=canonical,
    field_types=("text", "markdown"),
    empty_is_answer=True,
)
