"""How unsure the baseline is of each unlabelled text: the active learner's ranking."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from sklearn.exceptions import ConvergenceWarning

from labelwise.learning.baseline import pipeline


def least_confidence(
    texts: Sequence[str], labels: Sequence[str], unlabelled: Sequence[str]
) -> NDArray[np.float64] | None:
    """1 - the probability of the likeliest class, per unlabelled text (higher: less sure),
    from the baseline trained on `texts` and their `labels`; None with fewer than 2 classes."""
    if len(set(labels)) < 2 or not unlabelled:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = pipeline(len(texts)).fit(np.asarray(texts, dtype=object), np.asarray(labels))
    probabilities: NDArray[np.float64] = model.predict_proba(np.asarray(unlabelled, dtype=object))
    doubt: NDArray[np.float64] = 1.0 - probabilities.max(axis=1)
    return doubt
