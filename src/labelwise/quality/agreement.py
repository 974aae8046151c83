"""Chance-corrected agreement on categorical labels: Cohen's kappa and Fleiss' kappa.

Inputs are integer codes (see `encoding`); every function returns NaN rather than raising
when the coefficient is undefined (no data, or one category only), because the app computes
these per slice and an empty slice is normal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from labelwise.quality._arrays import FloatArray, IntArray, code_count, divide
from labelwise.quality.encoding import vote_counts

KappaWeights = Literal["linear", "quadratic"]


@dataclass(frozen=True, slots=True)
class PairKappa:
    """Cohen's kappa between two annotators over the items both labelled."""

    annotator_a: int
    annotator_b: int
    kappa: float
    n_items: int


def cohen_kappa(
    labels_a: npt.ArrayLike,
    labels_b: npt.ArrayLike,
    n_labels: int | None = None,
    weights: KappaWeights | None = None,
) -> float:
    """Kappa between two aligned label sequences; `weights` gives weighted kappa for ratings."""
    a = np.asarray(labels_a, np.intp)
    b = np.asarray(labels_b, np.intp)
    if a.shape != b.shape:
        raise ValueError("both annotators must label the same items")
    if a.size == 0:
        return float("nan")
    k = n_labels if n_labels is not None else int(max(a.max(), b.max())) + 1
    table = np.bincount(a * k + b, minlength=k * k).reshape(k, k).astype(np.float64)
    return float(_kappa_from_tables(table[None], _disagreement_weights(k, weights))[0])


def pairwise_cohen_kappa(
    items: npt.ArrayLike,
    annotators: npt.ArrayLike,
    labels: npt.ArrayLike,
    n_labels: int | None = None,
    weights: KappaWeights | None = None,
) -> list[PairKappa]:
    """Cohen's kappa for every pair of annotators who share at least one item.

    Their mean is Light's kappa, the usual summary when more than two annotators take part.
    """
    item_codes = np.asarray(items, np.intp)
    annotator_codes = np.asarray(annotators, np.intp)
    label_codes = np.asarray(labels, np.intp)
    if item_codes.size == 0:
        return []
    k = n_labels if n_labels is not None else int(label_codes.max()) + 1
    first, second = _pairs_within_items(item_codes)
    swap = annotator_codes[first] > annotator_codes[second]
    first, second = np.where(swap, second, first), np.where(swap, first, second)
    n_annotators = int(annotator_codes.max()) + 1
    pair_keys = annotator_codes[first].astype(np.int64) * n_annotators + annotator_codes[second]
    pairs, pair_index = np.unique(pair_keys, return_inverse=True)
    cells = (pair_index * k + label_codes[first]) * k + label_codes[second]
    tables = np.bincount(cells, minlength=pairs.size * k * k).reshape(pairs.size, k, k)
    kappas = _kappa_from_tables(tables.astype(np.float64), _disagreement_weights(k, weights))
    sizes = tables.sum(axis=(1, 2))
    return [
        PairKappa(int(key // n_annotators), int(key % n_annotators), float(kappa), int(size))
        for key, kappa, size in zip(pairs, kappas, sizes, strict=True)
    ]


def fleiss_kappa(
    items: npt.ArrayLike,
    labels: npt.ArrayLike,
    n_items: int | None = None,
    n_labels: int | None = None,
) -> float:
    """Fleiss' kappa with a varying number of raters per item.

    Each item's agreement P_i is the share of agreeing ordered rater pairs among its own
    m_i (m_i - 1) pairs; P is their plain mean and chance agreement uses the pooled label
    shares. With a constant number of raters this is Fleiss (1971) exactly. Items with fewer
    than two ratings say nothing about agreement and are left out.
    """
    counts = _rated_items(items, labels, n_items, n_labels)
    if counts.shape[0] == 0:
        return float("nan")
    m = counts.sum(axis=1)
    observed = float(np.mean(((counts**2).sum(axis=1) - m) / (m * (m - 1.0))))
    shares = counts.sum(axis=0) / m.sum()
    chance = float(np.sum(shares**2))
    if chance == 1.0:
        return float("nan")
    return (observed - chance) / (1.0 - chance)


def per_label_kappa(
    items: npt.ArrayLike,
    labels: npt.ArrayLike,
    n_items: int | None = None,
    n_labels: int | None = None,
) -> FloatArray:
    """Fleiss' kappa of each label against all the others (label j vs not j), one per label.

    Shows which categories annotators confuse; equals `fleiss_kappa` on the labels
    binarised for j, computed for all labels at once.
    """
    counts = _rated_items(items, labels, n_items, n_labels)
    if counts.shape[0] == 0:
        return np.full(counts.shape[1], np.nan)
    m = counts.sum(axis=1, keepdims=True)
    shares = counts.sum(axis=0) / max(float(m.sum()), 1.0)
    disagreement = np.mean(counts * (m - counts) / (m * (m - 1.0)), axis=0)
    return 1.0 - divide(disagreement, shares * (1.0 - shares), np.nan)


def _rated_items(
    items: npt.ArrayLike, labels: npt.ArrayLike, n_items: int | None, n_labels: int | None
) -> FloatArray:
    item_codes = np.asarray(items, np.intp)
    label_codes = np.asarray(labels, np.intp)
    n_l = code_count(label_codes, n_labels)
    counts = vote_counts(item_codes, label_codes, code_count(item_codes, n_items), n_l)
    rated: FloatArray = counts[counts.sum(axis=1) >= 2]
    return rated


def _pairs_within_items(items: IntArray) -> tuple[IntArray, IntArray]:
    """Row indices (first, second) of every unordered pair of rows sharing an item."""
    order = np.argsort(items, kind="stable")
    sorted_items = items[order]
    firsts: list[IntArray] = []
    seconds: list[IntArray] = []
    for offset in range(1, sorted_items.size):
        same = np.flatnonzero(sorted_items[offset:] == sorted_items[:-offset])
        if same.size == 0:
            break
        firsts.append(order[same])
        seconds.append(order[same + offset])
    if not firsts:
        return np.empty(0, np.intp), np.empty(0, np.intp)
    return np.concatenate(firsts), np.concatenate(seconds)


def _disagreement_weights(k: int, weights: KappaWeights | None) -> FloatArray:
    distance = np.abs(np.subtract.outer(np.arange(k), np.arange(k))).astype(np.float64)
    if weights is None:
        return (distance > 0).astype(np.float64)
    if weights == "linear":
        return distance
    if weights == "quadratic":
        return distance**2
    raise ValueError(f"unknown kappa weights {weights!r}")


def _kappa_from_tables(tables: FloatArray, disagreement: FloatArray) -> FloatArray:
    """Kappa for a stack of k x k contingency tables (rows: first rater, columns: second)."""
    n = tables.sum(axis=(1, 2))
    expected = tables.sum(axis=2)[:, :, None] * tables.sum(axis=1)[:, None, :]
    expected /= np.maximum(n, 1.0)[:, None, None]
    observed_d = (tables * disagreement).sum(axis=(1, 2))
    expected_d = (expected * disagreement).sum(axis=(1, 2))
    return 1.0 - divide(observed_d, expected_d, np.nan)
