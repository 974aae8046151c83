"""Cohen's and Fleiss' kappa: hand-computed cases, a published table, scikit-learn."""

from __future__ import annotations

import warnings
from random import Random
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.quality import (
    KappaWeights,
    cohen_kappa,
    fleiss_kappa,
    pairwise_cohen_kappa,
    per_label_kappa,
)


def test_cohen_by_hand() -> None:
    # 10 items, table [[4, 1], [2, 3]]: p_o = 7/10; marginals a = (5, 5), b = (6, 4):
    # p_e = (5*6 + 5*4) / 100 = 0.5, kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    a = [0] * 5 + [1] * 5
    b = [0, 0, 0, 0, 1, 0, 0, 1, 1, 1]
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_cohen_undefined_and_empty() -> None:
    assert np.isnan(cohen_kappa([1, 1], [1, 1]))
    assert np.isnan(cohen_kappa([], []))
    with pytest.raises(ValueError, match="same items"):
        cohen_kappa([0, 1], [0])


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=40))
def test_cohen_matches_scikit_learn(
    sklearn_metrics: ModuleType, weights: KappaWeights | None, pairs: list[tuple[int, int]]
) -> None:
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns where kappa is undefined (NaN)
        expected = sklearn_metrics.cohen_kappa_score(a, b, labels=list(range(5)), weights=weights)
    assert cohen_kappa(a, b, 5, weights) == pytest.approx(expected, abs=1e-12, nan_ok=True)


@settings(deadline=None)
@given(st.lists(st.integers(0, 3), min_size=2, max_size=30), st.randoms(use_true_random=False))
def test_cohen_equals_fleiss_when_marginals_match(labels: list[int], random: Random) -> None:
    # b is a shuffle of a, so both raters have the same marginals; then Cohen's chance term
    # sum p_a p_b equals the pooled sum p^2 of Fleiss (Scott's pi), and P_o is shared.
    shuffled = list(labels)
    random.shuffle(shuffled)
    units = [unit for unit in range(len(labels)) for _ in range(2)]
    values = [value for pair in zip(labels, shuffled, strict=True) for value in pair]
    assert cohen_kappa(labels, shuffled) == pytest.approx(fleiss_kappa(units, values), nan_ok=True)


# Fleiss (1971) as tabulated on Wikipedia's "Fleiss' kappa" page: 10 subjects, 14 raters,
# 5 categories; P = 0.378, P_e = 0.213, kappa = 0.210.
FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def rows_from_counts(table: list[list[int]]) -> tuple[list[int], list[int]]:
    rows = [
        (item, label)
        for item, counts in enumerate(table)
        for label, count in enumerate(counts)
        for _ in range(count)
    ]
    return [item for item, _ in rows], [label for _, label in rows]


def test_fleiss_published_table() -> None:
    items, labels = rows_from_counts(FLEISS_TABLE)
    assert fleiss_kappa(items, labels) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_varying_raters_by_hand() -> None:
    # Item 0: 3 raters a,a,b -> P_0 = (2*1 + 0) / (3*2) = 1/3. Item 1: 2 raters a,a -> 1.
    # Item 2: 4 raters a,b,b,b -> P_2 = (0 + 3*2) / (4*3) = 1/2. Item 3: one rater, dropped.
    # P = (1/3 + 1 + 1/2) / 3 = 11/18. Pooled over 9 ratings: a 5, b 4
    # -> P_e = (25 + 16) / 81 = 41/81. kappa = (11/18 - 41/81) / (1 - 41/81) = 17/80.
    items = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3]
    labels = [0, 0, 1, 0, 0, 0, 1, 1, 1, 1]
    assert fleiss_kappa(items, labels) == pytest.approx(17 / 80)


def test_fleiss_undefined() -> None:
    assert np.isnan(fleiss_kappa([0, 0, 1, 1], [2, 2, 2, 2]))
    assert np.isnan(fleiss_kappa([0, 1], [0, 1]))


def test_per_label_kappa_is_fleiss_on_each_binarised_label() -> None:
    items, labels = rows_from_counts(FLEISS_TABLE)
    per_label = per_label_kappa(items, labels)
    for label in range(5):
        binary = [int(value == label) for value in labels]
        assert per_label[label] == pytest.approx(fleiss_kappa(items, binary, n_labels=2))


def test_pairwise_cohen_aligns_each_pair() -> None:
    # Annotators 0 and 1 share items 0-3; 2 shares item 3 with both; 3 shares nothing.
    items = [0, 1, 2, 3, 0, 1, 2, 3, 3, 4]
    annotators = [0, 0, 0, 0, 1, 1, 1, 1, 2, 3]
    labels = [0, 1, 0, 1, 0, 1, 1, 1, 0, 1]
    found = pairwise_cohen_kappa(items, annotators, labels)
    pairs = {(pair.annotator_a, pair.annotator_b): pair for pair in found}
    assert set(pairs) == {(0, 1), (0, 2), (1, 2)}
    assert pairs[(0, 1)].n_items == 4
    assert pairs[(0, 1)].kappa == pytest.approx(cohen_kappa([0, 1, 0, 1], [0, 1, 1, 1]))
    assert pairs[(0, 2)].n_items == 1
    assert pairwise_cohen_kappa([], [], []) == []
