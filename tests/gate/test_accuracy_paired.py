"""Accuracy's paired statistics against independent computations, edges included.

The score test's restricted maximum-likelihood rates, its statistic and its interval are
recomputed here from the multinomial likelihood alone (a bisection on its derivative and a
brute-force scan of d0), not from the closed form in ``gate_stats.accuracy``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from components.shared.gate_stats.accuracy import (
    _mid_p_upper_tail,
    _restricted_rates,
    _score_interval,
    accuracy_mde,
    accuracy_test,
    paired_score_z,
)
from components.shared.gate_stats.paired import z_upper

TABLES = [
    (5, 12, 100),
    (12, 5, 100),
    (0, 0, 50),
    (0, 7, 20),
    (7, 0, 20),
    (3, 3, 10),
    (1, 0, 1000),
    (40, 9, 60),
]


def numeric_rates(b: int, c: int, n: int, d0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Restricted MLE of (p_b, p_c) under p_c - p_b = d0, by bisection on the log-likelihood's
    derivative in x = p_b over its feasible range (the likelihood is concave there)."""
    r = n - b - c
    lo, hi = np.maximum(0.0, -d0), (1.0 - d0) / 2.0
    for _ in range(80):
        x = (lo + hi) / 2
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = b / x + c / (x + d0) - 2.0 * r / (1.0 - 2.0 * x - d0)
        rising = np.nan_to_num(slope, nan=0.0) > 0
        lo, hi = np.where(rising, x, lo), np.where(rising, hi, x)
    x = (lo + hi) / 2
    return x, x + d0


def numeric_z(b: int, c: int, n: int, d0: np.ndarray) -> np.ndarray:
    pb, pc = numeric_rates(b, c, n, d0)
    variance = np.maximum((pb + pc - d0 * d0) / n, 1e-300)
    return ((c - b) / n - d0) / np.sqrt(variance)


@pytest.mark.parametrize(("b", "c", "n"), TABLES)
def test_restricted_rates_are_the_constrained_maximum_likelihood(b: int, c: int, n: int) -> None:
    d0s = np.linspace(-0.95, 0.95, 39)
    expected_b, expected_c = numeric_rates(b, c, n, d0s)
    for d0, pb, pc in zip(d0s, expected_b, expected_c, strict=True):
        assert _restricted_rates(b, c, n, float(d0)) == pytest.approx((pb, pc), abs=1e-7)


@pytest.mark.parametrize(("b", "c", "n"), TABLES)
def test_the_score_interval_is_every_d0_the_one_sided_tests_keep(b: int, c: int, n: int) -> None:
    """Brute force: low is the smallest d0 whose z stays <= z_(1-alpha), high the largest whose
    z stays >= -z_(1-alpha)."""
    alpha = 0.05
    grid = np.linspace(-1 + 1e-9, 1 - 1e-9, 40_001)
    z = numeric_z(b, c, n, grid)
    kept_low = grid[z <= z_upper(alpha)]
    kept_high = grid[z >= -z_upper(alpha)]
    low, high = _score_interval(b, c, n, alpha)
    assert low == pytest.approx(kept_low.min(), abs=1e-4)
    assert high == pytest.approx(kept_high.max(), abs=1e-4)


@pytest.mark.parametrize(("b", "c", "n", "low", "high"), [(0, 20, 20, None, 1.0), (20, 0, 20, -1.0, None)])
def test_an_interval_reaches_the_end_of_the_scale_when_every_example_disagrees_one_way(
    b: int, c: int, n: int, low: float | None, high: float | None
) -> None:
    interval = _score_interval(b, c, n, 0.05)
    z = numeric_z(b, c, n, np.array(interval))
    if low is not None:
        assert interval[0] == low and z[1] == pytest.approx(-z_upper(0.05), abs=1e-3)
    if high is not None:
        assert interval[1] == high and z[0] == pytest.approx(z_upper(0.05), abs=1e-3)


@pytest.mark.parametrize(
    ("b", "c", "n", "d0"), [(0, 0, 10, 0.0), (5, 15, 20, 1.0), (0, 5, 10, 1.0), (3, 0, 10, -1.0)]
)
def test_the_score_statistic_without_variance_is_zero_or_infinite(b: int, c: int, n: int, d0: float) -> None:
    # With no variance left under H0, z says only whether the data sit at, above or below d0.
    observed = (c - b) / n
    expected = 0.0 if observed == d0 else math.copysign(math.inf, observed - d0)
    assert paired_score_z(b, c, n, d0) == expected


@pytest.mark.parametrize(("b", "c", "n", "d0"), [(5, 12, 100, -0.05), (12, 5, 100, 0.0), (30, 2, 40, -0.3)])
def test_the_score_statistic_is_the_standardised_distance_from_d0(b: int, c: int, n: int, d0: float) -> None:
    assert paired_score_z(b, c, n, d0) == pytest.approx(
        float(numeric_z(b, c, n, np.array([d0]))[0]), rel=1e-6
    )


@pytest.mark.parametrize("m", [1, 2, 7])
def test_mid_p_tail_is_the_binomial_upper_tail_plus_half_the_point(m: int) -> None:
    for b in range(m + 1):
        expected = st.binom.sf(b, m, 0.5) + 0.5 * st.binom.pmf(b, m, 0.5)
        assert _mid_p_upper_tail(b, m) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("n", "discordance", "psi"), [(100, 0.0, 0.01), (400, 0.2, 0.2), (50, 1.7, 1.0)])
def test_mde_solves_the_power_equation_on_a_clamped_discordance(
    n: int, discordance: float, psi: float
) -> None:
    za, zb = z_upper(0.05), st.norm.ppf(0.8)
    d = accuracy_mde(n, discordance, 0.05)
    assert math.sqrt(n) * d == pytest.approx(za * math.sqrt(psi) + zb * math.sqrt(psi - d * d), rel=1e-6)


def test_mde_of_a_set_too_small_for_any_drop_is_the_largest_possible_drop() -> None:
    # sqrt(2) < z_0.95: not even a drop of sqrt(psi) reaches 80% power.
    assert accuracy_mde(2, 0.5, 0.05, tolerance=0.01) == pytest.approx(0.01 + math.sqrt(0.5))


def test_identical_correctness_takes_the_power_figure_from_independent_errors() -> None:
    correct = np.r_[np.ones(160, bool), np.zeros(40, bool)]
    result = accuracy_test(correct, correct.copy(), tolerance=0.0, alpha=0.05)
    assert result.mde == pytest.approx(accuracy_mde(200, 2 * 0.8 * 0.2, 0.05))
    assert result.p_value == 1.0 and result.delta == 0.0


def test_correctness_counts_each_direction_of_disagreement_once() -> None:
    base = np.array([1, 1, 1, 0, 0, 1, 0, 1], bool)
    cand = np.array([1, 0, 0, 1, 0, 1, 0, 0], bool)  # b = 3 (baseline only), c = 1 (candidate only)
    result = accuracy_test(base, cand, tolerance=0.0, alpha=0.05)
    assert result.delta == pytest.approx(-2 / 8)
    assert result.p_value == pytest.approx(_mid_p_upper_tail(3, 4))
    assert result.ci == _score_interval(3, 1, 8, 0.05)
    scored = accuracy_test(base, cand, tolerance=0.1, alpha=0.05)
    assert scored.p_value == pytest.approx(st.norm.cdf(paired_score_z(3, 1, 8, -0.1)))
