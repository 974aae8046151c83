"""Krippendorff's alpha from value counts per unit, with any number of coders and missing values.

alpha = 1 - D_o / D_e, with D_o the disagreement between values paired within a unit and D_e
the disagreement expected between any two pairable values (Krippendorff 2011). Working from
counts per unit instead of a coders x units matrix keeps memory linear in the annotations: a
dense matrix of 200k units x 500 coders would be mostly empty cells.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from labelwise.quality._arrays import FloatArray, IntArray

MeasurementLevel = Literal["nominal", "ordinal", "interval", "ratio"]

# Above this many (unit, value) cells, count pairs by sorting instead of a dense bincount.
_DENSE_CELLS_PER_VALUE = 4
# Rows of the value x value expected-disagreement matrix computed at once for ratio data.
_RATIO_BLOCK_CELLS = 1 << 22


def krippendorff_alpha(
    units: npt.ArrayLike,
    codes: npt.ArrayLike,
    level: MeasurementLevel = "nominal",
    values: npt.ArrayLike | None = None,
) -> float:
    """Alpha for one value per (unit, coder) row; NaN when undefined (no variation at all).

    `codes` index the value domain in its natural order; `values` gives each code's number for
    interval and ratio data (default: the code itself). Units with a single value carry no
    pairing information and are left out, as the coefficient prescribes.
    """
    unit_codes = np.asarray(units, np.intp)
    value_codes = np.asarray(codes, np.intp)
    if unit_codes.shape != value_codes.shape:
        raise ValueError("units and codes must have the same length")
    if unit_codes.size == 0:
        return float("nan")
    domain = (
        np.arange(int(value_codes.max()) + 1, dtype=np.float64)
        if values is None
        else np.asarray(values, np.float64)
    )
    per_unit = np.bincount(unit_codes)
    pairable = per_unit[unit_codes] >= 2
    if not pairable.all():
        unit_codes, value_codes = unit_codes[pairable], value_codes[pairable]
    if unit_codes.size == 0:
        return float("nan")
    totals = np.bincount(value_codes, minlength=domain.size).astype(np.float64)
    if level == "nominal":
        return _nominal(unit_codes, value_codes, per_unit, totals)
    if level == "ratio":
        return _ratio(unit_codes, value_codes, per_unit, totals, domain)
    if level == "ordinal":
        return _interval(unit_codes, _midranks(totals)[value_codes], per_unit)
    if level == "interval":
        return _interval(unit_codes, domain[value_codes], per_unit)
    raise ValueError(f"unknown level of measurement {level!r}")


def _nominal(units: IntArray, codes: IntArray, per_unit: IntArray, totals: FloatArray) -> float:
    # Within a unit of m values, sum_c n_uc^2 of the m^2 ordered pairs match; the rest
    # disagree, and each unit's pairs carry weight 1 / (m - 1).
    n = float(units.size)
    cell_units, _, cell_counts = _unit_value_counts(units, codes, per_unit.size, totals.size)
    weight = 1.0 / np.maximum(per_unit - 1.0, 1.0)
    m = per_unit.astype(np.float64)
    present = per_unit >= 2
    all_pairs = float(np.sum(m[present] ** 2 * weight[present]))
    matching = float(np.sum(cell_counts**2 * weight[cell_units]))
    expected = n * n - float(np.sum(totals**2))
    if expected == 0.0:
        return float("nan")
    return 1.0 - (n - 1.0) * (all_pairs - matching) / expected


def _interval(units: IntArray, x: FloatArray, per_unit: IntArray) -> float:
    # sum over a unit's ordered pairs of (x_a - x_b)^2 = 2 m SS_within, and over all pairable
    # values 2 n SS_total, so alpha needs only sums of squares about the means.
    n = float(units.size)
    m = per_unit.astype(np.float64)
    unit_mean = np.bincount(units, weights=x, minlength=m.size) / np.maximum(m, 1.0)
    within = np.bincount(units, weights=(x - unit_mean[units]) ** 2, minlength=m.size)
    present = per_unit >= 2
    observed = float(np.sum(m[present] * within[present] / (m[present] - 1.0)))
    total = float(np.sum((x - x.mean()) ** 2))
    if total == 0.0:
        return float("nan")
    return 1.0 - (n - 1.0) * observed / (n * total)


def _midranks(totals: FloatArray) -> FloatArray:
    # The ordinal metric (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2 equals (R_k - R_c)^2 with R the
    # mid-rank of each value among all pairable values, so ordinal is interval on mid-ranks.
    return np.cumsum(totals) - totals / 2.0


def _ratio(
    units: IntArray,
    codes: IntArray,
    per_unit: IntArray,
    totals: FloatArray,
    domain: FloatArray,
) -> float:
    # ((c - k) / (c + k))^2 has no one-dimensional embedding, so build the coincidence matrix
    # (sparse, value x value) and the expected disagreement block by block.
    n = float(units.size)
    cell_units, cell_codes, cell_counts = _unit_value_counts(
        units, codes, per_unit.size, totals.size
    )
    scale = 1.0 / np.sqrt(per_unit[cell_units] - 1.0)
    counts = sp.csr_matrix(
        (cell_counts * scale, (cell_units, cell_codes)), shape=(per_unit.size, totals.size)
    )
    coincidence = (counts.T @ counts).tocoo()
    observed = float(
        np.sum(coincidence.data * _ratio_distance(domain[coincidence.row], domain[coincidence.col]))
    )
    expected = 0.0
    rows = max(1, _RATIO_BLOCK_CELLS // max(1, totals.size))
    for start in range(0, totals.size, rows):
        block = slice(start, start + rows)
        distance = _ratio_distance(domain[block, None], domain[None, :])
        expected += float(totals[block] @ distance @ totals)
    if expected == 0.0:
        return float("nan")
    return 1.0 - (n - 1.0) * observed / expected


def _ratio_distance(c: FloatArray, k: FloatArray) -> FloatArray:
    total = c + k
    safe = np.where(total == 0.0, 1.0, total)
    return np.where(total == 0.0, 0.0, ((c - k) / safe) ** 2)


def _unit_value_counts(
    units: IntArray, codes: IntArray, n_units: int, n_codes: int
) -> tuple[IntArray, IntArray, FloatArray]:
    """(unit, value, count) for every value present in a unit: the per-unit value counts."""
    keys = units.astype(np.int64) * n_codes + codes
    if n_units * n_codes <= _DENSE_CELLS_PER_VALUE * units.size:
        dense = np.bincount(keys, minlength=n_units * n_codes)
        cells = np.flatnonzero(dense)
        counts = dense[cells]
    else:
        cells, counts = np.unique(keys, return_counts=True)
    return (
        (cells // n_codes).astype(np.intp),
        (cells % n_codes).astype(np.intp),
        counts.astype(np.float64),
    )
