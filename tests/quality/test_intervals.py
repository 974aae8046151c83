"""Wilson intervals and the item bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from labelwise.quality import bootstrap_ci, wilson_interval


def test_wilson_by_hand() -> None:
    # 8 of 10, z = 1.959964, z^2/n = 0.384146: centre = (0.8 + 0.192073) / 1.384146 = 0.716741,
    # half = 1.959964 * sqrt(0.016 + 0.009604) / 1.384146 = 0.226566 -> [0.4902, 0.9433]
    interval = wilson_interval(8, 10)
    assert interval.estimate == 0.8
    assert (interval.low, interval.high) == pytest.approx((0.4902, 0.9433), abs=1e-4)


def test_wilson_edges() -> None:
    # 0 of 10: [0, z^2/n / (1 + z^2/n)] = [0, 0.2775]; never outside [0, 1].
    none = wilson_interval(0, 10)
    assert none.low == 0.0 and none.high == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(10, 10).high == pytest.approx(1.0)
    empty = wilson_interval(0, 0)
    assert np.isnan(empty.estimate) and (empty.low, empty.high) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_bootstrap_resamples_whole_items() -> None:
    # 50 items of 3 rows each. Every resample holds 50 units (a twice-drawn item counts twice)
    # and 3 rows per unit, all from one original item.
    units = np.repeat(np.arange(50), 3)

    def check(rows: np.ndarray, resampled: np.ndarray) -> float:
        assert np.bincount(resampled).tolist() == [3] * 50
        originals = units[rows]
        assert all(len(set(originals[resampled == u])) == 1 for u in range(50))
        return 0.0

    bootstrap_ci(units, check, n_resamples=5)


def test_bootstrap_interval_of_a_mean() -> None:
    rng = np.random.default_rng(1)
    units = np.repeat(np.arange(200), 2)
    values = rng.normal(10.0, 2.0, 400)
    interval = bootstrap_ci(units, lambda rows, _: float(values[rows].mean()), n_resamples=300)
    assert interval.estimate == pytest.approx(values.mean())
    assert interval.low < interval.estimate < interval.high
    # About 1.96 * 2 / sqrt(400) either side; items of 2 rows do not change that much here.
    assert interval.high - interval.low == pytest.approx(0.39, abs=0.1)
    again = bootstrap_ci(units, lambda rows, _: float(values[rows].mean()), n_resamples=300)
    assert again == interval


def test_bootstrap_of_an_undefined_statistic() -> None:
    interval = bootstrap_ci([0, 1], lambda rows, units: float("nan"), n_resamples=3)
    assert np.isnan(interval.low) and np.isnan(interval.high)
