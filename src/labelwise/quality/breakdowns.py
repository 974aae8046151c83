"""Breakdowns of label quality per annotator, per label and per group of rows.

The reference is one label code per item, -1 where there is none: gold answers for an
accuracy against gold, or `Consensus.labels` for an agreement with the consensus (there an
annotator's own vote is part of the consensus, which flatters annotators on items with few
votes). Slices and guideline versions are groups of rows: see `per_group`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from labelwise.quality._arrays import FloatArray, IntArray, code_count, divide


@dataclass(frozen=True, slots=True)
class AnnotatorScores:
    """Per annotator, answers that matched the reference and answers that had one."""

    correct: IntArray
    total: IntArray

    @property
    def accuracy(self) -> FloatArray:
        """correct / total, NaN for an annotator with no reference answers."""
        return divide(self.correct, self.total, np.nan)


@dataclass(frozen=True, slots=True)
class LabelScores:
    """Per label: precision, recall and F1 of the answers against the reference, and support
    (how many reference labels it has). NaN where a ratio has nothing to count."""

    precision: FloatArray
    recall: FloatArray
    f1: FloatArray
    support: IntArray


def annotator_accuracy(
    items: npt.ArrayLike,
    annotators: npt.ArrayLike,
    labels: npt.ArrayLike,
    reference: npt.ArrayLike,
    n_annotators: int | None = None,
) -> AnnotatorScores:
    """How often each annotator gave the reference label, on items that have one."""
    item_codes = np.asarray(items, np.intp)
    annotator_codes = np.asarray(annotators, np.intp)
    expected = np.asarray(reference, np.intp)[item_codes]
    known = expected >= 0
    right = known & (expected == np.asarray(labels, np.intp))
    n_w = code_count(annotator_codes, n_annotators)
    return AnnotatorScores(
        np.bincount(annotator_codes[right], minlength=n_w).astype(np.intp),
        np.bincount(annotator_codes[known], minlength=n_w).astype(np.intp),
    )


def deviation_from_others(
    items: npt.ArrayLike,
    annotators: npt.ArrayLike,
    values: npt.ArrayLike,
    n_annotators: int | None = None,
) -> FloatArray:
    """Per annotator, the mean absolute difference between their number and the mean of the
    other annotators' numbers on the same item, over the items someone else answered too
    (leaving their own answer out, so a pair of answers is not half as far apart); NaN for an
    annotator who shares no item."""
    item_codes = np.asarray(items, np.intp)
    annotator_codes = np.asarray(annotators, np.intp)
    numbers = np.asarray(values, np.float64)
    answers = np.bincount(item_codes)[item_codes]
    sums = np.bincount(item_codes, weights=numbers)[item_codes]
    shared = answers > 1
    others = (sums[shared] - numbers[shared]) / (answers[shared] - 1)
    who = annotator_codes[shared]
    n_w = code_count(annotator_codes, n_annotators)
    distance = np.bincount(who, weights=np.abs(numbers[shared] - others), minlength=n_w)
    return divide(distance, np.bincount(who, minlength=n_w), np.nan)


def confusion_matrix(reference: npt.ArrayLike, answers: npt.ArrayLike, n_labels: int) -> IntArray:
    """Counts with reference labels in rows and answers in columns; pairs with a -1 are skipped."""
    truth = np.asarray(reference, np.intp)
    given = np.asarray(answers, np.intp)
    both = (truth >= 0) & (given >= 0)
    cells = truth[both] * n_labels + given[both]
    counts = np.bincount(cells, minlength=n_labels * n_labels)
    return counts.reshape(n_labels, n_labels).astype(np.intp)


def label_scores(reference: npt.ArrayLike, answers: npt.ArrayLike, n_labels: int) -> LabelScores:
    """Per-label precision, recall and F1: which labels annotators get wrong, and how."""
    table = confusion_matrix(reference, answers, n_labels).astype(np.float64)
    hits = np.diag(table)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = hits / table.sum(axis=0)
        recall = hits / table.sum(axis=1)
        f1 = 2.0 * hits / (table.sum(axis=0) + table.sum(axis=1))
    return LabelScores(precision, recall, f1, table.sum(axis=1).astype(np.intp))


def per_group(groups: npt.ArrayLike, statistic: Callable[[IntArray], float]) -> dict[int, float]:
    """`statistic(rows)` for the rows of each group code (a slice, a guideline version, ...)."""
    group_codes = np.asarray(groups, np.intp)
    order = np.argsort(group_codes, kind="stable")
    present, starts = np.unique(group_codes[order], return_index=True)
    ends = np.append(starts[1:], order.size)[: present.size]
    return {
        int(group): statistic(order[start:end])
        for group, start, end in zip(present.tolist(), starts.tolist(), ends.tolist(), strict=True)
    }
