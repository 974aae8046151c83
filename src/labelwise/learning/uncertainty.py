"""How unsure the baseline is of each unlabelled text: the active learner's ranking."""

from __future__ import annotations

from collections.abc import Collection, Hashable, Sequence

import numpy as np
from numpy.typing import NDArray

from labelwise.learning.baseline import fit


def least_confidence(
    texts: Sequence[str], labels: Sequence[Hashable], unlabelled: Sequence[str]
) -> NDArray[np.float64] | None:
    """1 - the probability of the likeliest class, per unlabelled text (higher: less sure),
    from the baseline trained on `texts` and their `labels`; None with fewer than 2 classes."""
    if len(set(labels)) < 2 or not unlabelled:
        return None
    model = fit(texts, labels)
    probabilities: NDArray[np.float64] = model.predict_proba(np.asarray(unlabelled, dtype=object))
    doubt: NDArray[np.float64] = 1.0 - probabilities.max(axis=1)
    return doubt


def least_confidence_multilabel(
    texts: Sequence[str], label_sets: Sequence[Collection[str]], unlabelled: Sequence[str]
) -> NDArray[np.float64] | None:
    """The same for a multi-label question: a model per label says whether a text has it,
    and a text's doubt is that of its least sure label; None when no label is learnable (each
    is on every labelled text or on none)."""
    doubts = [
        least_confidence(texts, [label in given for given in label_sets], unlabelled)
        for label in sorted(set().union(*label_sets))
    ]
    learned = [doubt for doubt in doubts if doubt is not None]
    return np.maximum.reduce(learned) if learned else None
