"""Turn (item, annotator, label) rows into integer-coded numpy arrays.

Every other function in the quality core works on these codes, so names are coded once and
the maths never touches Python objects.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from labelwise.quality._arrays import FloatArray, IntArray


@dataclass(frozen=True, slots=True)
class CodedAnnotations:
    """Parallel code arrays, one entry per annotation, and the names each code stands for."""

    items: IntArray
    annotators: IntArray
    labels: IntArray
    item_names: tuple[Hashable, ...]
    annotator_names: tuple[Hashable, ...]
    label_names: tuple[Hashable, ...]


def encode(
    rows: Iterable[tuple[Hashable, Hashable, Hashable]],
    *,
    label_order: Sequence[Hashable] | None = None,
) -> CodedAnnotations:
    """Code (item, annotator, label) rows: items and annotators by first appearance.

    Labels follow `label_order` when given (the schema's order); otherwise they are sorted,
    numerically when every label reads as a number, so that "2" < "10" and ordinal or interval
    metrics see the values in their natural order. `rows` is consumed once, as a stream, so
    a file never has to be held in memory as Python objects.
    """
    items: dict[Hashable, int] = {}
    annotators: dict[Hashable, int] = {}
    labels: dict[Hashable, int] = {}
    codes = array("q")
    for item, annotator, label in rows:
        codes.append(items.setdefault(item, len(items)))
        codes.append(annotators.setdefault(annotator, len(annotators)))
        codes.append(labels.setdefault(label, len(labels)))
    table = np.frombuffer(codes, np.int64).reshape(-1, 3).astype(np.intp)
    names = tuple(label_order) if label_order is not None else sort_labels(labels)
    position = {name: code for code, name in enumerate(names)}
    unknown = [label for label in labels if label not in position]
    if unknown:
        raise ValueError(f"label {unknown[0]!r} is not in the label order")
    recode = np.array([position[label] for label in labels], np.intp)
    return CodedAnnotations(
        np.ascontiguousarray(table[:, 0]),
        np.ascontiguousarray(table[:, 1]),
        recode[table[:, 2]],
        tuple(items),
        tuple(annotators),
        names,
    )


def sort_labels(labels: Iterable[Hashable]) -> tuple[Hashable, ...]:
    """Sort labels numerically when all of them are numbers, else by their text."""
    unique = list(labels)
    numbers = [_as_number(label) for label in unique]
    if all(number is not None for number in numbers):
        order = sorted(range(len(unique)), key=lambda i: (numbers[i], str(unique[i])))
        return tuple(unique[i] for i in order)
    return tuple(sorted(unique, key=str))


def label_values(label_names: Sequence[Hashable]) -> FloatArray:
    """The numeric value of each label, for interval and ratio metrics and numeric answers."""
    values = np.empty(len(label_names), np.float64)
    for code, name in enumerate(label_names):
        number = _as_number(name)
        if number is None:
            raise ValueError(f"label {name!r} is not a number")
        values[code] = number
    return values


def vote_counts(
    items: npt.ArrayLike,
    labels: npt.ArrayLike,
    n_items: int,
    n_labels: int,
    weights: npt.ArrayLike | None = None,
) -> FloatArray:
    """Votes per (item, label) as a dense n_items x n_labels matrix, summed with `weights`."""
    keys = np.asarray(items, np.intp) * n_labels + np.asarray(labels, np.intp)
    w = None if weights is None else np.asarray(weights, np.float64)
    counts = np.bincount(keys, weights=w, minlength=n_items * n_labels)
    return counts.astype(np.float64, copy=False).reshape(n_items, n_labels)


def find_duplicates(items: npt.ArrayLike, annotators: npt.ArrayLike) -> IntArray:
    """Rows that repeat an earlier (item, annotator) pair: one annotator must count once."""
    item_codes = np.asarray(items, np.int64)
    annotator_codes = np.asarray(annotators, np.int64)
    if item_codes.size == 0:
        return np.empty(0, np.intp)
    keys = item_codes * (int(annotator_codes.max()) + 1) + annotator_codes
    order = np.argsort(keys, kind="stable")
    repeated = np.flatnonzero(keys[order][1:] == keys[order][:-1]) + 1
    return np.sort(order[repeated]).astype(np.intp)


def _as_number(value: Hashable) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None
