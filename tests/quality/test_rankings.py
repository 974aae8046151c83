"""Ranking agreement (Kendall's tau between annotators) and the Borda count."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import kendalltau

from labelwise.quality import (
    borda_count,
    kendall_tau,
    mean_pairwise_tau,
    ranking_pairs,
    tau_matrix,
)

# Places of three responses (0: best): a b c, the same, c b a reversed, a c b one swap.
ABC, CBA, ACB = [0, 1, 2], [2, 1, 0], [0, 2, 1]


def test_tau_by_hand() -> None:
    assert kendall_tau(ABC, ABC) == 1.0
    assert kendall_tau(ABC, CBA) == -1.0
    assert kendall_tau(ABC, ACB) == pytest.approx(1 / 3)  # 2 pairs kept, 1 reversed, of 3
    expected = [[1, -1, 1 / 3], [-1, 1, -1 / 3], [1 / 3, -1 / 3, 1]]
    np.testing.assert_allclose(tau_matrix([ABC, CBA, ACB]), expected)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 7).flatmap(
        lambda k: st.tuples(st.permutations(range(k)), st.permutations(range(k)))
    )
)
def test_tau_equals_scipy(pair: tuple[list[int], list[int]]) -> None:
    first, second = pair
    assert kendall_tau(first, second) == pytest.approx(kendalltau(first, second).statistic)


def test_mean_pairwise_tau_counts_each_pair_of_each_item_once() -> None:
    # Item 0: three rankings, pairs 1, 1/3, 1/3. Item 1: two, reversed (-1). Item 2: one, no pair.
    items = [0, 0, 0, 1, 1, 2]
    places = [ABC, ABC, ACB, ABC, CBA, ABC]
    assert mean_pairwise_tau(items, places) == pytest.approx((1 + 2 / 3 - 1) / 4)
    assert np.isnan(mean_pairwise_tau([0, 1], [ABC, CBA]))


def test_mean_pairwise_tau_equals_scipy_pair_by_pair() -> None:
    rng = np.random.default_rng(7)
    items = np.repeat(np.arange(20), 3)
    places = np.array([rng.permutation(5) for _ in items])
    expected = [
        kendalltau(places[a], places[b]).statistic
        for item in range(20)
        for a, b in itertools.combinations(np.flatnonzero(items == item), 2)
    ]
    assert mean_pairwise_tau(items, places) == pytest.approx(np.mean(expected))


def test_ranking_pairs_are_the_pairs_within_each_item_in_row_order() -> None:
    pairs = ranking_pairs([5, 2, 5, 2, 5, 9], [ABC, ABC, CBA, ACB, ACB, ABC])
    found = list(zip(pairs.first.tolist(), pairs.second.tolist(), strict=True))
    assert sorted(found) == [(0, 2), (0, 4), (1, 3), (2, 4)]
    taus = dict(zip(found, pairs.tau.tolist(), strict=True))
    assert taus == pytest.approx({(0, 2): -1.0, (0, 4): 1 / 3, (1, 3): 1 / 3, (2, 4): -1 / 3})
    empty = ranking_pairs(np.empty(0, np.intp), np.empty((0, 3), np.intp))
    assert empty.first.size == empty.tau.size == 0


def test_borda_by_hand() -> None:
    # Item 0: a b c, a b c, a c b: points a 6, b 2, c 1. Item 1: a b c, c b a: 2, 2, 2 (a tie).
    result = borda_count([0, 0, 0, 1, 1], [ABC, ABC, ACB, ABC, CBA], n_items=3)
    assert result.order[0].tolist() == [0, 1, 2]
    assert result.points[0].tolist() == pytest.approx([2, 2 / 3, 1 / 3])
    assert result.tied.tolist() == [False, True, False]  # item 2 has no rankings: no tie
    assert result.first[0].tolist() == [1.0, 0.0, 0.0]
    assert result.first[1].tolist() == [0.5, 0.0, 0.5]
    # Against the consensus a b c, taus 1, 1, 1/3: (1 + 7/9) / 2 of the pairs kept.
    assert result.agreement[0] == pytest.approx((1 + 7 / 9) / 2)
    assert np.isnan(result.agreement[1]) and np.isnan(result.agreement[2])


def test_borda_of_unanimous_rankings_is_that_ranking_at_full_agreement() -> None:
    ranking = [3, 0, 2, 1]  # response 1 first, then 3, 2, 0
    result = borda_count([0, 0, 0], [ranking] * 3)
    assert result.order[0].tolist() == [1, 3, 2, 0]
    assert result.agreement.tolist() == [1.0]
