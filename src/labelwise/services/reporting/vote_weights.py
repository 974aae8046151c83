"""The "weighted" consensus: each annotator's vote weighed by how often they are right.

An annotator's weight on a question is `log_odds_weights` of their accuracy p on it, the
optimal weight when a wrong answer is any other label at random. p is their accuracy on the
question's gold items when they answered any (the evidence we trust), else their agreement
with the majority vote (which counts their own vote, so it flatters); either way smoothed to
(right + 1) / (answers + 2), so a short record moves a weight little. An annotator at or
below chance gets no say; where nobody with a say answered, the item stays unresolved.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from labelwise.quality import (
    Consensus,
    annotator_accuracy,
    log_odds_weights,
    majority_vote,
    weighted_vote,
)
from labelwise.services.reporting.quality_data import LabelColumns, codes

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]


def gold_labels(
    columns: LabelColumns, question: str, gold: Mapping[int, Mapping[str, object]]
) -> IntArray:
    """Each answer's gold label code for `question`, -1 where its item has none."""
    known = {
        item: code
        for item, answers in gold.items()
        if (code := columns.code(answers.get(question))) is not None
    }
    items = codes(columns.items)
    if not known:
        return np.full(items.size, -1, np.intp)
    keys = np.asarray(sorted(known), np.intp)
    values = np.asarray([known[key] for key in keys.tolist()], np.intp)
    at = np.minimum(np.searchsorted(keys, items), keys.size - 1)
    return np.where(keys[at] == items, values[at], -1).astype(np.intp)


def vote_weights(
    columns: LabelColumns, units: IntArray, gold: IntArray, n_annotators: int
) -> FloatArray:
    """One weight per annotator code; `units` numbers each answer's item, `gold` is
    `gold_labels`."""
    annotators, labels = codes(columns.annotators), codes(columns.labels)
    k, rows = len(columns.choices), np.arange(labels.size)
    majority = majority_vote(units, labels, n_labels=k).labels[units]
    on_gold = annotator_accuracy(rows, annotators, labels, gold, n_annotators)
    on_majority = annotator_accuracy(rows, annotators, labels, majority, n_annotators)
    has_gold = on_gold.total > 0
    right = np.where(has_gold, on_gold.correct, on_majority.correct)
    answers = np.where(has_gold, on_gold.total, on_majority.total)
    return log_odds_weights((right + 1.0) / (answers + 2.0), k)


def weighted_consensus(
    columns: LabelColumns, units: IntArray, n_items: int, weights: FloatArray
) -> Consensus:
    """Each item's label by the annotators' weighted vote; vote shares as probabilities."""
    return weighted_vote(
        units,
        codes(columns.annotators),
        codes(columns.labels),
        weights,
        n_items=n_items,
        n_labels=len(columns.choices),
    )
