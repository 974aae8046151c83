"""Majority and weighted vote, multi-label and numeric aggregation."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.quality import (
    UNRESOLVED,
    aggregate_numbers,
    log_odds_weights,
    majority_vote,
    multilabel_vote,
    weighted_vote,
)

# Item 0: a a b -> a (2/3). Item 1: a b -> tie. Item 2: b b -> b. Item 3: a b c -> 3-way tie.
ITEMS = [0, 0, 0, 1, 1, 2, 2, 3, 3, 3]
ANNOTATORS = [0, 1, 2, 0, 1, 1, 2, 0, 1, 2]
LABELS = [0, 0, 1, 0, 1, 1, 1, 0, 1, 2]


def test_majority_leaves_ties_unresolved_by_default() -> None:
    result = majority_vote(ITEMS, LABELS)
    assert result.labels.tolist() == [0, UNRESOLVED, 1, UNRESOLVED]
    assert result.tied.tolist() == [False, True, False, True]
    assert result.confidence == pytest.approx([2 / 3, 1 / 2, 1.0, 1 / 3])
    assert result.probabilities[0] == pytest.approx([2 / 3, 1 / 3, 0.0])


def test_random_tie_break_is_seeded_and_picks_only_tied_labels() -> None:
    draws = {majority_vote(ITEMS, LABELS, ties="random", seed=seed).labels[1] for seed in range(40)}
    assert draws == {0, 1}
    first = majority_vote(ITEMS, LABELS, ties="random", seed=3).labels
    assert first.tolist() == majority_vote(ITEMS, LABELS, ties="random", seed=3).labels.tolist()
    assert first[0] == 0 and first[2] == 1


def test_tie_is_not_settled_by_label_order() -> None:
    # The same tie with the labels coded the other way round must stay a tie.
    assert majority_vote([0, 0], [0, 1]).labels[0] == UNRESOLVED
    assert majority_vote([0, 0], [1, 0]).labels[0] == UNRESOLVED


def test_items_without_votes_are_unresolved_not_tied() -> None:
    result = majority_vote([1], [0], n_items=2, n_labels=2)
    assert result.labels.tolist() == [UNRESOLVED, 0]
    assert result.tied.tolist() == [False, False]


def test_weighted_vote_by_hand() -> None:
    # Item 1 (a by annotator 0, b by annotator 1): weights 2 vs 1 -> a with 2/3.
    # Item 3: a (w 2), b (w 1), c (w 1) -> a with 2/4.
    result = weighted_vote(ITEMS, ANNOTATORS, LABELS, [2.0, 1.0, 1.0])
    assert result.labels.tolist() == [0, 0, 1, 0]
    assert result.confidence[1] == pytest.approx(2 / 3)
    assert result.confidence[3] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="negative"):
        weighted_vote(ITEMS, ANNOTATORS, LABELS, [1.0, -1.0, 1.0])


def test_equal_float_weights_still_tie() -> None:
    # 0.1 + 0.2 != 0.3 in floating point; that must not decide the item.
    result = weighted_vote([0, 0, 0], [0, 1, 2], [0, 0, 1], [0.1, 0.2, 0.3])
    assert result.labels[0] == UNRESOLVED


def test_log_odds_weights() -> None:
    # K = 3: w = log(2 p / (1 - p)); p = 0.8 -> log 8. Chance (1/3) -> 0; below chance -> 0.
    weights = log_odds_weights([0.8, 1 / 3, 0.1, 1.0], 3)
    assert weights[:3] == pytest.approx([np.log(8.0), 0.0, 0.0])
    assert weights[3] == pytest.approx(np.log(2 * 0.99 / 0.01))


@pytest.mark.filterwarnings("ignore::Warning:crowdkit")  # its pandas 3 deprecations
def test_matches_crowdkit_majority_vote_where_there_is_no_tie(crowdkit: ModuleType) -> None:
    import pandas as pd

    rng = np.random.default_rng(5)
    items = np.repeat(np.arange(300), 3)
    labels = rng.integers(0, 4, items.size)
    annotators = rng.integers(0, 20, items.size)
    frame = pd.DataFrame({"task": items, "worker": annotators, "label": labels})
    expected = crowdkit.MajorityVote().fit_predict(frame).sort_index().to_numpy()
    result = majority_vote(items, labels, n_labels=4)
    clear = ~result.tied
    assert np.array_equal(result.labels[clear], expected[clear])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 3)), min_size=1, max_size=60))
def test_probabilities_are_vote_shares(rows: list[tuple[int, int]]) -> None:
    items, labels = [r[0] for r in rows], [r[1] for r in rows]
    result = majority_vote(items, labels, n_items=10, n_labels=4)
    voted = np.bincount(items, minlength=10) > 0
    assert np.allclose(result.probabilities[voted].sum(axis=1), 1.0)
    assert np.all(result.probabilities[~voted] == 0.0)
    resolved = result.labels >= 0
    best = result.probabilities.max(axis=1)
    assert np.allclose(result.probabilities[resolved, result.labels[resolved]], best[resolved])


def test_multilabel_vote_per_label() -> None:
    # Item 0, three annotators: label 0 by all, label 1 by one, label 2 by two -> {0, 2}.
    # Item 1, two annotators: label 1 by one of them -> tied, not selected.
    items = [0, 0, 0, 1, 1]
    selected = [[1, 0, 1], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 0]]
    result = multilabel_vote(items, selected)
    assert result.selected.tolist() == [[True, False, True], [False, False, False]]
    assert result.tied.tolist() == [[False, False, False], [False, True, False]]
    assert result.share[0] == pytest.approx([1.0, 1 / 3, 2 / 3])


def test_numbers_by_mean_and_median() -> None:
    # Item 0: 1, 2, 9 -> mean 4, median 2. Item 1: 4, 6 -> 5 and 5. Item 2: none -> NaN.
    items = [0, 1, 0, 0, 1]
    values = [9.0, 6.0, 1.0, 2.0, 4.0]
    means = aggregate_numbers(items, values, n_items=3)
    medians = aggregate_numbers(items, values, n_items=3, method="median")
    assert means[:2] == pytest.approx([4.0, 5.0]) and np.isnan(means[2])
    assert medians[:2] == pytest.approx([2.0, 5.0]) and np.isnan(medians[2])
    assert np.isnan(aggregate_numbers([], [], n_items=1, method="median")[0])


@settings(deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.floats(-1e6, 1e6)), min_size=1, max_size=40))
def test_median_matches_numpy(rows: list[tuple[int, float]]) -> None:
    items = np.array([r[0] for r in rows])
    values = np.array([r[1] for r in rows])
    medians = aggregate_numbers(items, values, n_items=6, method="median")
    for item in range(6):
        chosen = values[items == item]
        if chosen.size:
            assert medians[item] == pytest.approx(np.median(chosen))
