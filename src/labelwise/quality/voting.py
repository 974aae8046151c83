"""Vote-based aggregation: majority and weighted vote, multi-label per label, numbers.

A tie is a fact about the data, so by default it stays unresolved (label -1) and is flagged;
settling it silently by label order would bias the consensus towards the first label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from labelwise.quality._arrays import BoolArray, FloatArray, IntArray, code_count, divide
from labelwise.quality.encoding import vote_counts

TiePolicy = Literal["unresolved", "random"]
NumberMethod = Literal["mean", "median"]

UNRESOLVED = -1
# Scores within this relative distance of the best count as tied (weights sum in floating point).
_TIE_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Consensus:
    """One aggregated label per item.

    `labels` holds UNRESOLVED (-1) where a tie was left open or an item had no votes;
    `confidence` is the probability of the chosen (or tied) label; `probabilities` holds one
    row per item (vote shares, or posteriors for Dawid-Skene); `tied` marks every item whose
    top labels tied, whether or not the tie was then broken.
    """

    labels: IntArray
    confidence: FloatArray
    probabilities: FloatArray
    tied: BoolArray


@dataclass(frozen=True, slots=True)
class MultiLabelConsensus:
    """Per (item, label): chosen by a strict majority, the share that chose it, and ties."""

    selected: BoolArray
    share: FloatArray
    tied: BoolArray


def majority_vote(
    items: npt.ArrayLike,
    labels: npt.ArrayLike,
    n_items: int | None = None,
    n_labels: int | None = None,
    *,
    ties: TiePolicy = "unresolved",
    seed: int = 0,
) -> Consensus:
    """The most frequent label per item; `ties="random"` breaks ties uniformly, seeded."""
    item_codes, label_codes, n_i, n_l = _shape(items, labels, n_items, n_labels)
    scores = vote_counts(item_codes, label_codes, n_i, n_l)
    return decide(_normalise(scores), ties=ties, seed=seed)


def weighted_vote(
    items: npt.ArrayLike,
    annotators: npt.ArrayLike,
    labels: npt.ArrayLike,
    weights: npt.ArrayLike,
    n_items: int | None = None,
    n_labels: int | None = None,
    *,
    ties: TiePolicy = "unresolved",
    seed: int = 0,
) -> Consensus:
    """Vote with one non-negative weight per annotator (e.g. `log_odds_weights` from gold)."""
    annotator_weights = np.asarray(weights, np.float64)
    if np.any(annotator_weights < 0.0):
        raise ValueError("annotator weights must not be negative")
    item_codes, label_codes, n_i, n_l = _shape(items, labels, n_items, n_labels)
    row_weights = annotator_weights[np.asarray(annotators, np.intp)]
    scores = vote_counts(item_codes, label_codes, n_i, n_l, row_weights)
    return decide(_normalise(scores), ties=ties, seed=seed)


def log_odds_weights(accuracy: npt.ArrayLike, n_labels: int) -> FloatArray:
    """Vote weights log((K - 1) p / (1 - p)) from per-annotator accuracies p.

    These are the optimal weights when each annotator is right with probability p and
    otherwise picks a wrong label uniformly. Accuracies are clipped to [1/K, 0.99], so an
    annotator at or below chance gets no say and a perfect score on few gold items does not
    get an infinite one; pass accuracies already smoothed towards a prior when counts are small.
    """
    p = np.clip(np.asarray(accuracy, np.float64), 1.0 / n_labels, 0.99)
    return np.asarray(np.log((n_labels - 1) * p / (1.0 - p)), np.float64)


def decide(
    probabilities: FloatArray, *, ties: TiePolicy = "unresolved", seed: int = 0
) -> Consensus:
    """Pick each item's label from its probability row, applying the tie policy."""
    best = probabilities.max(axis=1, initial=0.0)
    is_best = probabilities >= (best * (1.0 - _TIE_TOLERANCE))[:, None]
    voted = best > 0.0
    tied = voted & (is_best.sum(axis=1) > 1)
    chosen = np.where(voted, np.argmax(probabilities, axis=1), UNRESOLVED).astype(np.intp)
    if ties == "unresolved":
        chosen[tied] = UNRESOLVED
    elif ties == "random":
        rng = np.random.default_rng(seed)
        draws = rng.random((int(tied.sum()), probabilities.shape[1])) * is_best[tied]
        chosen[tied] = np.argmax(draws, axis=1)
    else:
        raise ValueError(f"unknown tie policy {ties!r}")
    return Consensus(chosen, best, probabilities, tied)


def multilabel_vote(
    items: npt.ArrayLike, selected: npt.ArrayLike, n_items: int | None = None
) -> MultiLabelConsensus:
    """Each label of a multi-label question decided on its own, by a strict majority.

    `selected` has one row per annotation and one boolean column per label. A label chosen by
    exactly half of an item's annotators is tied: not selected, and flagged.
    """
    item_codes = np.asarray(items, np.intp)
    chosen = np.asarray(selected, np.bool_)
    n_i = code_count(item_codes, n_items)
    total = np.bincount(item_codes, minlength=n_i).astype(np.float64)[:, None]
    yes = np.zeros((n_i, chosen.shape[1]), np.float64)
    for label in range(chosen.shape[1]):
        yes[:, label] = np.bincount(item_codes, weights=chosen[:, label], minlength=n_i)
    share = divide(yes, total, 0.0)
    return MultiLabelConsensus(2.0 * yes > total, share, (2.0 * yes == total) & (total > 0))


def aggregate_numbers(
    items: npt.ArrayLike,
    values: npt.ArrayLike,
    n_items: int | None = None,
    method: NumberMethod = "mean",
) -> FloatArray:
    """One number per item, by mean or median (robust to one wild answer); NaN if none."""
    item_codes = np.asarray(items, np.intp)
    numbers = np.asarray(values, np.float64)
    n_i = code_count(item_codes, n_items)
    m = np.bincount(item_codes, minlength=n_i)
    if method == "mean":
        sums = np.bincount(item_codes, weights=numbers, minlength=n_i)
        return divide(sums, m, np.nan)
    if method == "median":
        if numbers.size == 0:
            return np.full(n_i, np.nan)
        ordered = numbers[np.lexsort((numbers, item_codes))]
        starts = np.concatenate(([0], np.cumsum(m)[:-1]))
        low = ordered[np.minimum(starts + (m - 1) // 2, ordered.size - 1)]
        high = ordered[np.minimum(starts + m // 2, ordered.size - 1)]
        return np.where(m > 0, (low + high) / 2.0, np.nan)
    raise ValueError(f"unknown method {method!r}")


def _shape(
    items: npt.ArrayLike, labels: npt.ArrayLike, n_items: int | None, n_labels: int | None
) -> tuple[IntArray, IntArray, int, int]:
    item_codes = np.asarray(items, np.intp)
    label_codes = np.asarray(labels, np.intp)
    return (
        item_codes,
        label_codes,
        code_count(item_codes, n_items),
        code_count(label_codes, n_labels),
    )


def _normalise(scores: FloatArray) -> FloatArray:
    totals = scores.sum(axis=1, keepdims=True)
    return divide(scores, totals, 0.0)
