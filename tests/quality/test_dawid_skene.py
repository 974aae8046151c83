"""Dawid-Skene EM: behaviour on clear cases, properties, and crowd-kit as the oracle."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.quality import UNRESOLVED, dawid_skene, majority_vote

# crowd-kit 1.4.2 uses pandas arguments that pandas 3 deprecates; that is its business.
quiet_crowdkit = pytest.mark.filterwarnings("ignore::Warning:crowdkit")


def simulate(seed: int, n_items: int = 400) -> tuple[np.ndarray, ...]:
    """Items with 3 classes, 5 labels each from 15 annotators: 10 good, 3 poor, 2 spammers."""
    rng = np.random.default_rng(seed)
    truth = rng.choice(3, n_items, p=[0.5, 0.3, 0.2])
    accuracy = np.r_[np.full(10, 0.85), np.full(3, 0.5), np.full(2, 1 / 3)]
    annotators = np.concatenate([rng.choice(15, 5, replace=False) for _ in range(n_items)])
    items = np.repeat(np.arange(n_items), 5)
    right = rng.random(items.size) < accuracy[annotators]
    wrong = (truth[items] + rng.integers(1, 3, items.size)) % 3
    labels = np.where(right, truth[items], wrong)
    return items, annotators, labels, truth


def test_consistent_annotators_give_identity_confusion() -> None:
    # Two annotators who always agree on 3 classes: posteriors one-hot, confusion ~ identity.
    items = np.repeat(np.arange(30), 2)
    labels = np.repeat(np.arange(30) % 3, 2)
    annotators = np.tile([0, 1], 30)
    result = dawid_skene(items, annotators, labels)
    assert result.consensus.labels.tolist() == (np.arange(30) % 3).tolist()
    assert np.allclose(result.confusion, np.eye(3)[None], atol=1e-6)
    assert result.priors == pytest.approx([1 / 3] * 3)
    assert result.converged


def test_beats_majority_vote_when_skills_differ() -> None:
    items, annotators, labels, truth = simulate(1)
    fitted = dawid_skene(items, annotators, labels)
    majority = majority_vote(items, labels, ties="random")
    assert np.mean(fitted.consensus.labels == truth) > np.mean(majority.labels == truth)
    # Good annotators (0-9) show a strong diagonal, spammers (13, 14) do not.
    diagonal = np.trace(fitted.confusion, axis1=1, axis2=2) / 3
    assert diagonal[:10].min() > 0.7 and diagonal[13:].max() < 0.6


def test_gold_pins_known_items() -> None:
    items, annotators, labels, truth = simulate(2, 60)
    gold = np.full(60, UNRESOLVED)
    gold[:10] = (truth[:10] + 1) % 3  # deliberately "wrong" gold is still obeyed
    result = dawid_skene(items, annotators, labels, gold=gold)
    assert result.consensus.labels[:10].tolist() == gold[:10].tolist()
    assert np.allclose(result.consensus.confidence[:10], 1.0)
    with pytest.raises(ValueError, match="one label code"):
        dawid_skene(items, annotators, labels, gold=[0, 1])


def test_iteration_limit_is_reported() -> None:
    items, annotators, labels, _ = simulate(3, 100)
    result = dawid_skene(items, annotators, labels, max_iter=1, tol=0.0)
    assert result.n_iterations == 1 and not result.converged
    with pytest.raises(ValueError, match="max_iter"):
        dawid_skene(items, annotators, labels, max_iter=0)
    with pytest.raises(ValueError, match="at least one annotation"):
        dawid_skene([], [], [])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 4), st.integers(0, 2)), min_size=1))
def test_posteriors_and_confusions_are_distributions(rows: list[tuple[int, int, int]]) -> None:
    items, annotators, labels = (np.array(column) for column in zip(*rows, strict=True))
    result = dawid_skene(items, annotators, labels, n_labels=3)
    assert np.allclose(result.consensus.probabilities.sum(axis=1), 1.0)
    assert np.allclose(result.confusion.sum(axis=2), 1.0)
    assert result.priors.sum() == pytest.approx(1.0)
    assert np.all(np.isfinite(result.consensus.probabilities))


@quiet_crowdkit
@pytest.mark.parametrize("seed", [4, 5])
def test_matches_crowdkit_iteration_for_iteration(crowdkit: ModuleType, seed: int) -> None:
    # Same start (majority-vote shares), same updates and floor: after the same number of
    # iterations the posteriors must agree. tol < 0 makes both run all n_iter iterations.
    import pandas as pd

    items, annotators, labels, _ = simulate(seed, 200)
    frame = pd.DataFrame({"task": items, "worker": annotators, "label": labels})
    model = crowdkit.DawidSkene(n_iter=10, tol=-1.0).fit(frame)
    expected = model.probas_.sort_index()[[0, 1, 2]].to_numpy()
    result = dawid_skene(items, annotators, labels, max_iter=10, tol=-1.0)
    assert np.allclose(result.consensus.probabilities, expected, atol=1e-6)
    # crowd-kit reports the priors re-estimated from these posteriors (half a step on).
    priors = model.priors_.sort_index().to_numpy()
    assert result.consensus.probabilities.mean(axis=0) == pytest.approx(priors, abs=1e-6)


@quiet_crowdkit
def test_matches_crowdkit_labels_at_default_convergence(crowdkit: ModuleType) -> None:
    import pandas as pd

    items, annotators, labels, truth = simulate(6, 300)
    frame = pd.DataFrame({"task": items, "worker": annotators, "label": labels})
    expected = crowdkit.DawidSkene().fit_predict(frame).sort_index().to_numpy()
    ours = dawid_skene(items, annotators, labels).consensus.labels
    assert np.mean(ours == expected) > 0.995
    assert np.mean(ours == truth) == pytest.approx(np.mean(expected == truth), abs=0.005)
