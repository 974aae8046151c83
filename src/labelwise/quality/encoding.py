"""Turn (item, annotator, label) rows into integer-coded numpy arrays.

Every other function in the quality core works on these codes, so names are coded once and
the maths never touches Python objects.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


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
    items: Iterable[Hashable],
    annotators: Iterable[Hashable],
    labels: Iterable[Hashable],
    *,
    label_order: Sequence[Hashable] | None = None,
) -> CodedAnnotations:
    """Code items and annotators by first appearance and labels in a stable order.

    Labels follow `label_order` when given (the schema's order); otherwise they are sorted,
    numerically when every label reads as a number, so that "2" < "10" and ordinal or interval
    metrics see the values in their natural order.
    """
    item_codes, item_names = _code_by_appearance(items)
    annotator_codes, annotator_names = _code_by_appearance(annotators)
    label_list = list(labels)
    if not len(item_codes) == len(annotator_codes) == len(label_list):
        raise ValueError("items, annotators and labels must have the same length")
    names = tuple(label_order) if label_order is not None else sort_labels(set(label_list))
    index = {name: code for code, name in enumerate(names)}
    unknown = next((label for label in label_list if label not in index), None)
    if unknown is not None:
        raise ValueError(f"label {unknown!r} is not in the label order")
    label_codes = np.fromiter((index[label] for label in label_list), np.intp, len(label_list))
    return CodedAnnotations(
        item_codes, annotator_codes, label_codes, item_names, annotator_names, names
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


def _code_by_appearance(values: Iterable[Hashable]) -> tuple[IntArray, tuple[Hashable, ...]]:
    index: dict[Hashable, int] = {}
    codes = [index.setdefault(value, len(index)) for value in values]
    return np.asarray(codes, np.intp), tuple(index)


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
