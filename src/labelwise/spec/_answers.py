"""Checking a submission against the questions; this runs on every submit, so it stays lean."""

import math
from collections.abc import Callable, Mapping
from typing import TypeGuard

from labelwise.spec._base import show
from labelwise.spec._model import ProjectSpec, QuestionSpec

_SHOWN_CHOICES = 10
_PREFERENCES = frozenset({"a", "b", "tie"})


class AnswerError(ValueError):
    """An answer that does not fit its question: which question, and what was expected."""

    def __init__(self, question: str, message: str) -> None:
        super().__init__(f"{question}: {message}")
        self.question = question
        self.message = message


def validate_answers(
    spec: ProjectSpec,
    answers: object,
    item_data: Mapping[str, object],
    *,
    partial: bool = False,
) -> dict[str, object]:
    """The answers, normalised (spans sorted, labels in display order), unanswered optional
    questions left out; AnswerError at the first answer that does not fit its question.

    `partial` lets any question go unanswered: gold answers may cover only some questions."""
    if not isinstance(answers, dict):
        expected = "an object of question name to answer"
        raise AnswerError("answers", f"must be {expected}; got {show(answers)}")
    questions = spec._questions
    for name in answers:
        if name not in questions:
            raise AnswerError(str(name), f"unknown question; questions are {', '.join(questions)}")
    result: dict[str, object] = {}
    for question in spec.questions:
        value = answers.get(question.name)
        if value is None or (_is_blank(value) and question.type != "spans"):
            if question.required and not partial:
                raise AnswerError(question.name, "an answer is required")
            continue
        result[question.name] = _CHECKS[question.type](question, value, item_data)
    return result


def _is_blank(value: object) -> bool:
    """An empty string or list, which says nothing (for spans, [] does say "nothing to mark")."""
    return value == [] or (isinstance(value, str) and not value.strip())


def _single_label(question: QuestionSpec, value: object, item: Mapping[str, object]) -> object:
    if isinstance(value, str):
        if value in question._rank:
            return value
        under = [choice for choice in question.choices if choice.startswith(value + "/")]
        if under:
            raise AnswerError(question.name, f"{value!r} is a category; pick one of {_few(under)}")
    raise AnswerError(question.name, f"expected one of {_few(question.choices)}; got {show(value)}")


def _multi_label(question: QuestionSpec, value: object, item: Mapping[str, object]) -> object:
    rank = question._rank
    if not isinstance(value, list):
        raise AnswerError(question.name, f"expected a list of labels; got {show(value)}")
    for label in value:
        if not (isinstance(label, str) and label in rank):
            message = f"{show(label)} is not a label; expected labels from {_few(question.choices)}"
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


def _spans(question: QuestionSpec, value: object, item: Mapping[str, object]) -> object:
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
        shape = '{"start": int, "end": int, "label": str}'
        raise AnswerError(question.name, f"span {index}: expected {shape}; got {got}")
    start, end, label = span["start"], span["end"], span["label"]
    if not (_is_int(start) and _is_int(end) and 0 <= start < end <= size):
        message = (
            f"span {index}: expected integers 0 <= start < end <= {size} "
            f"(the length of {question.field!r}); got start {show(start)}, end {show(end)}"
        )
        raise AnswerError(question.name, message)
    if not (isinstance(label, str) and label in question._rank):
        message = f"span {index}: {show(label)} is not one of {_few(question.choices)}"
        raise AnswerError(question.name, message)
    return start, end, label


def _rating(question: QuestionSpec, value: object, item: Mapping[str, object]) -> object:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    low, high = question._range
    if not (_is_int(value) and low <= value <= high):
        message = f"expected an integer from {question.min} to {question.max}; got {show(value)}"
        raise AnswerError(question.name, message)
    return value


def _number(question: QuestionSpec, value: object, item: Mapping[str, object]) -> object:
    low, high = question._range
    if not (_is_finite(value) and low <= value <= high):
        raise AnswerError(question.name, f"expected {_number_range(question)}; got {show(value)}")
    return value


def _text(question: QuestionSpec, value: object, item: Mapping[str, object]) -> object:
    if not isinstance(value, str):
        raise AnswerError(question.name, f"expected a string; got {show(value)}")
    limit = question.max_length
    if limit is not None and len(value) > limit:
        raise AnswerError(question.name, f"must be at most {limit} characters; got {len(value)}")
    return value


def _preference(question: QuestionSpec, value: object, item: Mapping[str, object]) -> object:
    if isinstance(value, str) and value in _PREFERENCES:
        return value
    raise AnswerError(question.name, f"expected 'a', 'b' or 'tie'; got {show(value)}")


_CHECKS: dict[str, Callable[[QuestionSpec, object, Mapping[str, object]], object]] = {
    "single_label": _single_label,
    "multi_label": _multi_label,
    "spans": _spans,
    "rating": _rating,
    "number": _number,
    "text": _text,
    "preference": _preference,
}


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number_range(question: QuestionSpec) -> str:
    low, high = question.min, question.max
    if low is not None and high is not None:
        return f"a number from {low} to {high}"
    if low is not None:
        return f"a number of at least {low}"
    if high is not None:
        return f"a number of at most {high}"
    return "a finite number"


def _few(choices: tuple[str, ...] | list[str]) -> str:
    """Choices for a message, cut short so a 500-label taxonomy doesn't flood it."""
    shown = ", ".join(choices[:_SHOWN_CHOICES])
    hidden = len(choices) - _SHOWN_CHOICES
    return f"{shown}, ... ({hidden} more)" if hidden > 0 else shown
