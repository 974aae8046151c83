"""Confidence intervals for proportions such as an annotator's accuracy on gold items."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist


@dataclass(frozen=True, slots=True)
class ConfidenceInterval:
    """A point estimate and the bounds around it."""

    estimate: float
    low: float
    high: float


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> ConfidenceInterval:
    """Wilson score interval: unlike the normal approximation it stays inside [0, 1] and is
    sensible for the small counts an annotator's gold record has (10 of 10 is not [1, 1]).
    """
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    if trials == 0:
        return ConfidenceInterval(float("nan"), 0.0, 1.0)
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    p = successes / trials
    spread = z * z / trials
    centre = (p + spread / 2.0) / (1.0 + spread)
    half = z * math.sqrt(p * (1.0 - p) / trials + spread / (4.0 * trials)) / (1.0 + spread)
    # At 0 or all successes the bound is exactly 0 or 1; rounding must not move it off.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return ConfidenceInterval(p, low, high)
