"""Per-annotator and per-label breakdowns, and grouping rows by slice."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

from labelwise.quality import (
    UNRESOLVED,
    annotator_accuracy,
    confusion_matrix,
    deviation_from_others,
    krippendorff_alpha,
    label_scores,
    per_group,
)


def test_annotator_accuracy_by_hand() -> None:
    # Item 0 (reference 1): annotators 0 and 1 both answer 1. Item 1 has no reference.
    # Item 2 (reference 0): annotator 1 answers 1. -> annotator 0: 1 of 1, annotator 1: 1 of 2.
    scores = annotator_accuracy(
        items=[0, 0, 1, 1, 2],
        annotators=[0, 1, 0, 1, 1],
        labels=[1, 1, 0, 1, 1],
        reference=[1, UNRESOLVED, 0],
        n_annotators=3,
    )
    assert scores.correct.tolist() == [1, 1, 0]
    assert scores.total.tolist() == [1, 2, 0]
    assert scores.accuracy[:2] == pytest.approx([1.0, 0.5])
    assert np.isnan(scores.accuracy[2])


def test_confusion_and_label_scores_match_scikit_learn(sklearn_metrics: ModuleType) -> None:
    rng = np.random.default_rng(0)
    reference = rng.integers(0, 4, 200)
    answers = np.where(rng.random(200) < 0.7, reference, rng.integers(0, 4, 200))
    expected = sklearn_metrics.confusion_matrix(reference, answers, labels=range(4))
    assert np.array_equal(confusion_matrix(reference, answers, 4), expected)
    precision, recall, f1, support = sklearn_metrics.precision_recall_fscore_support(
        reference, answers, labels=range(4), zero_division=np.nan
    )
    scores = label_scores(reference, answers, 4)
    assert scores.precision == pytest.approx(precision)
    assert scores.recall == pytest.approx(recall)
    assert scores.f1 == pytest.approx(f1)
    assert scores.support.tolist() == support.tolist()


def test_unresolved_pairs_are_skipped() -> None:
    table = confusion_matrix([0, UNRESOLVED, 1], [0, 1, UNRESOLVED], 2)
    assert table.tolist() == [[1, 0], [0, 0]]
    scores = label_scores([0, 0], [0, 0], 2)
    assert scores.f1[0] == 1.0 and np.isnan(scores.precision[1])


def test_per_group_runs_the_statistic_on_each_slice() -> None:
    # Slice 0 (units 0, 1) agrees perfectly; slice 2 (units 2, 3) is maximally split.
    units = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    values = np.array([0, 0, 1, 1, 0, 1, 1, 0])
    slices = np.array([0, 0, 0, 0, 2, 2, 2, 2])
    alphas = per_group(slices, lambda rows: krippendorff_alpha(units[rows], values[rows]))
    assert list(alphas) == [0, 2]
    assert alphas[0] == pytest.approx(1.0)
    assert alphas[2] < 0
    assert per_group([], lambda rows: 0.0) == {}


def test_deviation_from_others_by_hand() -> None:
    # Item 0: 1, 2, 6 by annotators 0, 1, 2: the others' means are 4, 3.5 and 1.5. Item 1:
    # annotator 0 alone (nobody to compare with). Item 2: 5 and 3 by annotators 1 and 2.
    deviation = deviation_from_others(
        items=[0, 0, 0, 1, 2, 2],
        annotators=[0, 1, 2, 0, 1, 2],
        values=[1.0, 2.0, 6.0, 9.0, 5.0, 3.0],
        n_annotators=4,
    )
    assert deviation[:3].tolist() == [3.0, (1.5 + 2.0) / 2, (4.5 + 2.0) / 2]
    assert np.isnan(deviation[3])  # annotator 3 answered nothing
