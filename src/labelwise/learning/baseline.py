"""The baseline: TF-IDF features and a logistic regression, scored out of fold.

Out of fold, because a model scoring items it was trained on agrees with their labels, errors
included; confident learning needs every item judged by a model that never saw its label.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline

MAX_FOLDS = 5  # as labelwise.learning.DESCRIPTION says


@dataclass(frozen=True)
class OutOfFold:
    """Each item's probability of each class, from the fold that held the item out.

    `classes[j]` names column j; `labels[i]` is item i's label as a column index.
    """

    classes: list[str]
    labels: NDArray[np.int64]
    probabilities: NDArray[np.float64]


def pipeline(examples: int) -> Pipeline:
    """Words seen once are dropped only from a sizeable training set: a small one may have
    hardly any words twice."""
    rare = 2 if examples >= 100 else 1
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=rare, sublinear_tf=True, max_features=200_000),
        # saga: linear in the number of non-zero features, 15x faster than lbfgs on n-grams
        LogisticRegression(C=4.0, solver="saga", tol=1e-3, max_iter=200, random_state=0),
    )


def fit(texts: Sequence[str], labels: Sequence[Any]) -> Pipeline:
    """The baseline trained on `texts`; an unconverged fit still ranks, so no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return pipeline(len(texts)).fit(np.asarray(texts, dtype=object), np.asarray(labels))


def out_of_fold(texts: Sequence[str], labels: Sequence[str], seed: int = 0) -> OutOfFold | None:
    """Out-of-fold probabilities; None when there is too little to learn from: fewer than
    two classes, or fewer than two items of every class but one."""
    counts = Counter(labels)
    classes = sorted(counts)
    folds = min(MAX_FOLDS, min(counts.values()))
    if len(classes) < 2 or folds < 2:
        return None
    column = {name: j for j, name in enumerate(classes)}
    y = np.fromiter((column[label] for label in labels), dtype=np.int64, count=len(labels))
    x = np.asarray(texts, dtype=object)
    probabilities = np.zeros((len(y), len(classes)))
    splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(x, y)
    for train, held_out in splits:
        model = fit(x[train], y[train])
        # a fold's training part can miss a rare class: its column stays 0 for those items
        probabilities[np.ix_(held_out, model.classes_)] = model.predict_proba(x[held_out])
    return OutOfFold(classes, y, probabilities)
