"""Krippendorff's alpha: the published worked example, hand-computed cases, the oracle."""

from __future__ import annotations

from random import Random
from types import ModuleType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelwise.quality import MeasurementLevel, fleiss_kappa, krippendorff_alpha

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 observers x 12 units,
# None where an observer gave no value.
WORKED_EXAMPLE = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def long_format(matrix: list[list[int | None]]) -> tuple[list[int], list[int]]:
    """(unit, value) rows from a coders x units matrix, skipping the missing cells."""
    cells = [(unit, value) for row in matrix for unit, value in enumerate(row) if value is not None]
    return [unit for unit, _ in cells], [value for _, value in cells]


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_published_worked_example(level: MeasurementLevel, published: float) -> None:
    units, values = long_format(WORKED_EXAMPLE)
    assert krippendorff_alpha(units, values, level) == pytest.approx(published, abs=5e-4)


# Units {1, 1, 2}, {3, 3} and {2}; the last has one value and drops out, leaving n = 5
# pairable values 1, 1, 2, 3, 3 (n_1 = 2, n_2 = 1, n_3 = 2).
SMALL_UNITS = [0, 0, 0, 1, 1, 2]
SMALL_VALUES = [1, 1, 2, 3, 3, 2]


def test_small_nominal_by_hand() -> None:
    # Unit 1 has 4 disagreeing ordered pairs (1,2),(2,1) x two 1s, weight 1/(m-1) = 1/2:
    # D_o = 2 / 5. Expected: sum_{c!=k} n_c n_k = 25 - (4 + 1 + 4) = 16, D_e = 16 / 20.
    # alpha = 1 - 0.4 / 0.8 = 0.5
    assert krippendorff_alpha(SMALL_UNITS, SMALL_VALUES, "nominal") == pytest.approx(0.5)


def test_small_interval_by_hand() -> None:
    # Unit 1: 4 ordered pairs at (1-2)^2 = 1, / (m-1) = 2 -> D_o = 2 / 5 = 0.4.
    # All ordered pairs of 1,1,2,3,3: 2 * (2*1 + 4*4 + 2*1) = 40, D_e = 40 / 20 = 2.
    # alpha = 1 - 0.4 / 2 = 0.8
    assert krippendorff_alpha(SMALL_UNITS, SMALL_VALUES, "interval") == pytest.approx(0.8)


def test_small_ordinal_by_hand() -> None:
    # delta(c, k) = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2: d(1,2) = (3 - 1.5)^2 = 2.25,
    # d(1,3) = (5 - 2)^2 = 9, d(2,3) = (3 - 1.5)^2 = 2.25.
    # D_o = 4 * 2.25 / 2 / 5 = 0.9; D_e = 2 * (2*1*2.25 + 2*2*9 + 1*2*2.25) / 20 = 4.5.
    # alpha = 1 - 0.9 / 4.5 = 0.8
    assert krippendorff_alpha(SMALL_UNITS, SMALL_VALUES, "ordinal") == pytest.approx(0.8)


def test_small_ratio_by_hand() -> None:
    # delta(c, k) = ((c - k) / (c + k))^2: d(1,2) = 1/9, d(1,3) = 1/4, d(2,3) = 1/25.
    # D_o = 4 * (1/9) / 2 / 5 = 100/2250; D_e = 2 * (2/9 + 1 + 2/25) / 20 = 293/2250.
    # alpha = 1 - 100/293 = 193/293
    assert krippendorff_alpha(SMALL_UNITS, SMALL_VALUES, "ratio") == pytest.approx(193 / 293)


def test_values_map_codes_to_numbers() -> None:
    # Codes 0, 1, 2 standing for 10, 20, 40: interval alpha must see the numbers, not codes.
    units = [0, 0, 1, 1, 2, 2]
    codes = [0, 1, 1, 1, 2, 2]
    numbers = [10.0, 20.0, 40.0]
    direct = krippendorff_alpha(units, [10, 20, 20, 20, 40, 40], "interval")
    assert krippendorff_alpha(units, codes, "interval", numbers) == pytest.approx(direct)


def test_undefined_without_variation_or_pairs() -> None:
    assert np.isnan(krippendorff_alpha([0, 0, 1, 1], [2, 2, 2, 2]))
    assert np.isnan(krippendorff_alpha([0, 1, 2], [0, 1, 2]))
    assert np.isnan(krippendorff_alpha([], []))


def random_reliability_data(seed: int, n_values: int) -> tuple[np.ndarray, list[int], list[int]]:
    """A coders x units matrix with about 30% missing, and the same data as (unit, value)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_values, 40)
    noisy = rng.random((6, 40)) < 0.3
    matrix = np.where(noisy, rng.integers(0, n_values, (6, 40)), truth).astype(float)
    matrix[rng.random((6, 40)) < 0.3] = np.nan
    coders, units = np.nonzero(~np.isnan(matrix))
    return matrix, units.tolist(), matrix[coders, units].astype(int).tolist()


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
@pytest.mark.parametrize("seed", range(5))
def test_matches_krippendorff_package(
    krippendorff: ModuleType, level: MeasurementLevel, seed: int
) -> None:
    matrix, units, values = random_reliability_data(seed, 5)
    expected = krippendorff.alpha(matrix + 1, level_of_measurement=level)
    ours = krippendorff_alpha(units, np.asarray(values) + 1, level)
    assert ours == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("level", ["nominal", "interval", "ratio"])
def test_many_distinct_values_match_the_package(
    krippendorff: ModuleType, level: MeasurementLevel
) -> None:
    # 200 distinct values over 40 units: counting per unit goes through sorting, not bincount.
    matrix, units, values = random_reliability_data(11, 200)
    numbers = np.arange(200) * 0.5 + 1.0
    expected = krippendorff.alpha(
        np.where(np.isnan(matrix), np.nan, numbers[np.nan_to_num(matrix).astype(int)]),
        level_of_measurement=level,
    )
    assert krippendorff_alpha(units, values, level, numbers) == pytest.approx(expected, abs=1e-9)


unit_values = st.lists(st.lists(st.integers(0, 4), min_size=1, max_size=5), min_size=2, max_size=12)


@settings(deadline=None)
@given(unit_values, st.sampled_from(["nominal", "ordinal", "interval", "ratio"]))
def test_perfect_agreement_gives_one(units: list[list[int]], level: MeasurementLevel) -> None:
    # Every coder of a unit gives that unit's first value; at least two units differ.
    codes = [(unit, values[0] + 1) for unit, values in enumerate(units) for _ in range(2)]
    distinct = {value for _, value in codes}
    alpha = krippendorff_alpha([u for u, _ in codes], [v for _, v in codes], level)
    if len(distinct) > 1:
        assert alpha == pytest.approx(1.0)
    else:
        assert np.isnan(alpha)


@settings(max_examples=50, deadline=None)
@given(unit_values, st.randoms(use_true_random=False))
def test_unit_order_and_names_do_not_matter(units: list[list[int]], random: Random) -> None:
    rows = [(unit, value) for unit, values in enumerate(units) for value in values]
    renamed = list(range(len(units)))
    random.shuffle(renamed)
    random.shuffle(rows)
    before = krippendorff_alpha([u for u, _ in rows], [v for _, v in rows], "interval")
    after = krippendorff_alpha([renamed[u] for u, _ in rows], [v for _, v in rows], "interval")
    assert before == pytest.approx(after, nan_ok=True)


@settings(deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=2, max_size=30))
def test_two_coders_relate_to_scotts_pi(pairs: list[tuple[int, int]]) -> None:
    # With two coders and no gaps, Fleiss' kappa is Scott's pi and
    # alpha = 1 - (1 - pi) (n - 1) / n, with n = 2N pairable values.
    units = [unit for unit in range(len(pairs)) for _ in range(2)]
    values = [value for pair in pairs for value in pair]
    pi = fleiss_kappa(units, values)
    alpha = krippendorff_alpha(units, values, "nominal")
    n = 2 * len(pairs)
    if np.isnan(pi):
        assert np.isnan(alpha)
    else:
        assert alpha == pytest.approx(1.0 - (1.0 - pi) * (n - 1) / n)
