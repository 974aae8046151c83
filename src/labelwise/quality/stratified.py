"""The stratified estimator of a proportion, for label accuracy from a stratified review sample.

Review samples each slice (stratum) at its own rate, so a plain share of accepted labels over
the whole sample would over-weight small slices that are reviewed at `min_per_slice`. Each
stratum's mean is weighted by the stratum's share of the population instead (Cochran 1977,
Sampling Techniques, sections 5.2-5.6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from labelwise.quality._arrays import FloatArray, IntArray, divide
from labelwise.quality.intervals import ConfidenceInterval

# A stratum with a single sampled unit has no sample variance; 1/4 is the largest variance a
# value in [0, 1] can have, so the interval stays honest (wide) instead of collapsing to a point.
_MAX_VARIANCE = 0.25


@dataclass(frozen=True, slots=True)
class StratifiedEstimate:
    """The estimate with its normal interval, and what each stratum contributed.

    `weights` are W_h over the strata that were sampled (0 for the others); `means` are the
    stratum means, NaN where nothing was sampled; `covered` is the population share of the
    sampled strata, below 1 when some stratum has no sampled unit yet.
    """

    interval: ConfidenceInterval
    standard_error: float
    weights: FloatArray
    means: FloatArray
    sampled: IntArray
    covered: float


def stratified_proportion(
    strata: npt.ArrayLike,
    values: npt.ArrayLike,
    population: npt.ArrayLike,
    confidence: float = 0.95,
) -> StratifiedEstimate:
    """Estimate a population mean of values in [0, 1] from a stratified sample without
    replacement.

    `strata` and `values` hold one entry per sampled unit (its stratum code, its value, e.g. 1
    for an accepted label); `population` holds N_h, the number of units of each stratum. With
    n_h sampled units, mean y_h and sample variance s_h^2 (ddof 1) in stratum h:

        W_h = N_h / sum of N_g over the sampled strata g
        y_st = sum_h W_h y_h
        v(y_st) = sum_h W_h^2 (1 - n_h / N_h) s_h^2 / n_h

    and the interval is y_st +- z sqrt(v), clipped to [0, 1]. For 0/1 values s_h^2 / n_h is
    p_h (1 - p_h) / (n_h - 1), Cochran's formula for proportions. The factor (1 - n_h / N_h) is
    the finite-population correction: a stratum reviewed in full adds no sampling error.
    Strata with no sampled unit cannot be estimated and are left out of the weights (see
    `covered`); a stratum with one sampled unit gets the largest variance possible in [0, 1].
    """
    stratum_codes = np.asarray(strata, np.intp)
    y = np.asarray(values, np.float64)
    sizes = np.asarray(population, np.float64)
    n = np.bincount(stratum_codes, minlength=sizes.size).astype(np.intp)
    sums = np.bincount(stratum_codes, weights=y, minlength=sizes.size)
    means = divide(sums, n, np.nan)
    sampled = n > 0
    covered_size = float(sizes[sampled].sum())
    weights = np.where(sampled, divide(sizes, covered_size, 0.0), 0.0)
    if not sampled.any():
        nothing = ConfidenceInterval(float("nan"), float("nan"), float("nan"))
        return StratifiedEstimate(nothing, float("nan"), weights, means, n, 0.0)
    variance = _stratum_variances(stratum_codes, y, means, n)
    fpc = np.clip(1.0 - divide(n, sizes, 1.0), 0.0, 1.0)
    terms = weights**2 * fpc * divide(variance, n, 0.0)
    estimate = float(np.sum(weights[sampled] * means[sampled]))
    error = math.sqrt(float(terms[sampled].sum()))
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    interval = ConfidenceInterval(
        estimate, max(0.0, estimate - z * error), min(1.0, estimate + z * error)
    )
    total = float(sizes.sum())
    return StratifiedEstimate(
        interval, error, weights, means, n, covered_size / total if total else 0.0
    )


def _stratum_variances(
    strata: IntArray, values: FloatArray, means: FloatArray, sampled: IntArray
) -> FloatArray:
    """Sample variance (ddof 1) per stratum; the [0, 1] maximum where one unit was sampled."""
    squares = np.bincount(strata, weights=(values - means[strata]) ** 2, minlength=means.size)
    return divide(squares, sampled - 1.0, _MAX_VARIANCE)
