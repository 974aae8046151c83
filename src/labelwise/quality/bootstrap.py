"""Bootstrap confidence intervals over items, for any agreement or accuracy figure.

Annotations of one item are not independent, so the item (unit) is what gets resampled,
with all of its rows; an item drawn twice enters the resample as two distinct units.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from labelwise.quality._arrays import IntArray, code_count
from labelwise.quality.intervals import ConfidenceInterval

Statistic = Callable[[IntArray, IntArray], float]


def bootstrap_ci(
    units: npt.ArrayLike,
    statistic: Statistic,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> ConfidenceInterval:
    """Percentile interval of `statistic(rows, resampled_units)` over resamples of units.

    `rows` index the caller's arrays and `resampled_units` gives each of those rows its unit
    code in the resample, e.g. `lambda rows, u: krippendorff_alpha(u, labels[rows])`.
    Resamples where the statistic is undefined (NaN) are left out of the percentiles.
    """
    unit_codes = np.asarray(units, np.intp)
    n_units = code_count(unit_codes)
    order = np.argsort(unit_codes, kind="stable")
    sizes = np.bincount(unit_codes, minlength=n_units)
    starts = np.cumsum(sizes) - sizes
    estimate = statistic(np.arange(unit_codes.size), unit_codes)
    rng = np.random.default_rng(seed)
    values = np.empty(n_resamples, np.float64)
    for resample in range(n_resamples):
        drawn = rng.integers(0, n_units, n_units)
        counts = sizes[drawn]
        resampled_units = np.repeat(np.arange(n_units), counts)
        within = np.arange(resampled_units.size) - np.repeat(np.cumsum(counts) - counts, counts)
        rows = order[np.repeat(starts[drawn], counts) + within]
        values[resample] = statistic(rows, resampled_units)
    defined = values[~np.isnan(values)]
    if defined.size == 0:
        return ConfidenceInterval(estimate, float("nan"), float("nan"))
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(defined, [tail, 1.0 - tail])
    return ConfidenceInterval(estimate, float(low), float(high))
