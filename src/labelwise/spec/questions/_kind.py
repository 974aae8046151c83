"""What a question type is: one `QuestionKind` per type says everything any layer asks of it.

The kinds are pure (standard library only), like the rest of the spec, so that the spec can
read its keys from them and every layer can ask them. Where a layer needs numpy or pyarrow to
act on a fact, the kind names the fact in a small vocabulary (`Coding`, `ReleaseValue`) and
that layer maps each word to its own code, once.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from labelwise.spec._model import QuestionSpec

Coding = Literal["labels", "label_sets", "numbers", "spans", "rankings", "none"]
"""How the quality report codes answers: one category each (`labels`), a yes/no flag per
category (`label_sets`), a float (`numbers`), pairwise span matches per item (`spans`), the
place of each response (`rankings`, compared pair by pair with Kendall's tau), or not at all
(`none`: free text is never compared word for word)."""

ReleaseValue = Literal["label", "labels", "spans", "ranking", "integer", "number", "string"]
"""How a release stores an answer: one label (a Hugging Face ClassLabel), a list of labels,
a list of spans (start, end, label), a ranking (the responses best first, each a ClassLabel),
an integer, a float, or a string."""

Level = Literal["nominal", "ordinal", "interval"]

Check = Callable[["QuestionSpec", object, Mapping[str, object]], object]
Facts = Callable[["QuestionSpec"], Any]


def identical_majority(values: list[Any]) -> Any:
    """The answer a strict majority gave word for word; None without one."""
    text, votes = Counter(json.dumps(value) for value in values).most_common(1)[0]
    return json.loads(text) if votes > len(values) / 2 else None


def unchanged(value: Any) -> Any:
    return value


@dataclass(frozen=True, slots=True)
class QuestionKind:
    """One question type.

    `keys`/`required`: the spec keys it takes besides name, type, title and required.
    `validate(question, answer, item data)`: the answer normalised, or AnswerError.
    `categories(question)`: what its answers are coded and aggregated over (labels, the
    rating scale, a/b/tie); () when they are not categories.
    `describe(question)`: its possible answers in a few words, for the dataset card.
    `layout(question)`: what the labeling page needs to draw it, as JSON.
    `level`: Krippendorff's level of measurement of its categories or numbers.
    `consensus`: the aggregation methods it takes, its default first; () for none.
    `majority(answers)`: a release's answer for an item with several annotators and no
    consensus method. `canonical(answer)`: the answer as a release writes it.
    `field_types`: the field types its `field` (or each of its `responses`) may name.
    `integer_bounds`: min and max must be integers. `empty_is_answer`: [] is an answer, not a
    blank. `compared`: differing answers are a disagreement to adjudicate. `straight_lining`:
    the straight-lining check watches it.
    `number_keys`: its rank for the labeling page's number keys (lowest first; None: never).
    """

    name: str
    keys: frozenset[str]
    required: tuple[str, ...]
    validate: Check
    categories: Facts
    describe: Facts
    layout: Facts
    coding: Coding
    release: ReleaseValue
    level: Level | None = None
    consensus: tuple[str, ...] = ()
    majority: Callable[[list[Any]], Any] = identical_majority
    canonical: Callable[[Any], Any] = unchanged
    field_types: tuple[str, ...] = ()
    integer_bounds: bool = False
    empty_is_answer: bool = False
    compared: bool = True
    straight_lining: bool = False
    number_keys: int | None = None

    @property
    def categorical(self) -> bool:
        """Its answers are classes: a dataset card shows their balance."""
        return self.coding in ("labels", "label_sets")


def no_categories(question: QuestionSpec) -> tuple[Hashable, ...]:
    return ()


def label_categories(question: QuestionSpec) -> tuple[Hashable, ...]:
    return question.choices


def list_labels(question: QuestionSpec) -> str:
    return ", ".join(question.choices)
