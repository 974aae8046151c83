"""What several question types share: value tests, messages, and the layout of a label list."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, TypeGuard

if TYPE_CHECKING:
    from labelwise.spec._model import QuestionSpec

_SHOWN_CHOICES = 10
# Past this many labels, or with a taxonomy, the page groups them and offers a filter.
_TAXONOMY_FROM = 16


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def is_finite(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def few(choices: tuple[str, ...] | list[str]) -> str:
    """Choices for a message, cut short so a 500-label taxonomy doesn't flood it."""
    shown = ", ".join(choices[:_SHOWN_CHOICES])
    hidden = len(choices) - _SHOWN_CHOICES
    return f"{shown}, ... ({hidden} more)" if hidden > 0 else shown


def bounds(question: QuestionSpec) -> str:
    """The range for the dataset card: "1 to 5", "any to 10"."""
    return f"{_bound(question.min)} to {_bound(question.max)}"


def _bound(value: float | None) -> str:
    return "any" if value is None else f"{value:g}"


def label_layout(question: QuestionSpec, *, multiple: bool) -> dict[str, Any]:
    """Radio buttons or checkboxes over the labels; a taxonomy shows each path under its top."""
    hierarchical = question.is_hierarchical
    options = [
        [choice, " / ".join(choice.split("/")[1:]) if hierarchical else choice]
        for choice in question.choices
    ]
    many = hierarchical or len(options) >= _TAXONOMY_FROM
    return {
        "widget": "taxonomy" if many else "options",
        "options": options,
        "multiple": multiple,
        "choices": list(question.choices),
        "hierarchical": hierarchical,
    }
