"""Suspected label errors by confident learning (Northcutt, Jiang and Chuang, JAIR 2021).

Each class j gets a threshold t_j: the mean probability of j that the model gives the items
labelled j (how sure it is when the label is right, as far as it can tell). An item labelled y
is counted for class j*, the one class whose threshold it reaches (of several, the model's most
probable class); it is a suspected error when j* is not y (an off-diagonal entry of the
confident joint) and the model's most probable class is not y either. Ranked by how much more
probable the model finds j* than y. This is cleanlab's
`find_label_issues(..., filter_by="confident_learning")`, which the tests use as the oracle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labelwise.learning.baseline import OutOfFold


@dataclass(frozen=True, slots=True)
class Suspect:
    index: int  # the item's position in the scored set
    label: str  # the label it carries
    suggested: str  # the class the model is confident of instead
    probability: float  # the model's probability of `suggested`
    label_probability: float  # and of the label it carries


def suspects(scored: OutOfFold) -> list[Suspect]:
    """The suspected label errors, most suspect first."""
    p, y = scored.probabilities, scored.labels
    classes = len(scored.classes)
    thresholds = np.array(
        [p[y == j, j].mean() if np.any(y == j) else np.inf for j in range(classes)]
    )
    confident = p >= thresholds - 1e-6  # as cleanlab: a hair of slack for float ties
    reached = confident.sum(axis=1)
    likeliest = p.argmax(axis=1)
    best = np.where(reached > 1, likeliest, confident.argmax(axis=1))
    flagged = np.flatnonzero((reached > 0) & (best != y) & (likeliest != y))
    margin = p[flagged, best[flagged]] - p[flagged, y[flagged]]
    order = flagged[np.argsort(-margin, kind="stable")]
    return [
        Suspect(
            int(i),
            scored.classes[y[i]],
            scored.classes[best[i]],
            float(p[i, best[i]]),
            float(p[i, y[i]]),
        )
        for i in order
    ]
