"""How unsure the baseline is of each unlabelled text: the active learner's ranking."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from labelwise.learning.baseline import fit


def least_confidence(
    texts: Sequence[str], labels: Sequence[str], unlabelled: Sequence[str]
) -> NDArray[np.float64] | None:
    """1 - the probability of the likeliest class, per unlabelled text (higher: less sure),
    from the baseline trained on `texts` and their `labels`; None with fewer than 2 classes."""
    if len(set(labels)) < 2 or not unlabelled:
        return None
    model = fit(texts, labels)
    probabilities: NDArray[np.float64] = model.predict_proba(np.asarray(unlabelled, dtype=object))
    doubt: NDArray[np.float64] = 1.0 - probabilities.max(axis=1)
    return doubt
