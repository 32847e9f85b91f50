"""Accuracy's paired test at its edges: the smallest sets, one-sided disagreement, extreme
hypotheses and rounding.

(Listed only for gate_stats/accuracy.py's mutation run, so the other gate modules' sessions
stay current.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from components.shared.gate_stats.accuracy import (
    _restricted_rates,
    accuracy_mde,
    accuracy_test,
    paired_score_z,
)


@pytest.mark.parametrize(("n", "discordance"), [(3, 0.5), (3, 1.0), (4, 0.25), (6, 0.2)])
def test_mde_of_a_barely_large_enough_set_is_the_power_equations_root(n: int, discordance: float) -> None:
    """Between n = 3 and n = 6 (alpha 0.05) a drop of sqrt(psi) reaches 80% power only just: the
    power equation's root lies a little below sqrt(psi), and the MDE is that root."""
    za, zb = st.norm.ppf(0.95), st.norm.ppf(0.8)
    psi = discordance
    top = math.sqrt(psi)
    # the power at a drop of sqrt(psi) is only just reached:
    assert 0 < math.sqrt(psi) * (math.sqrt(n) - za) < 1
    d = accuracy_mde(n, discordance, 0.05)
    assert d < top - 1e-3
    assert math.sqrt(n) * d == pytest.approx(za * math.sqrt(psi) + zb * math.sqrt(psi - d * d), rel=1e-9)


@pytest.mark.parametrize(("b", "c"), [(30, 0), (0, 30)])
def test_disagreement_one_way_only_takes_the_power_figure_from_the_observed_discordance(
    b: int, c: int
) -> None:
    """Only identical correctness (b + c = 0) falls back to independent errors; here the models
    disagree on 30 of 200 examples, all in one direction."""
    both_right = 150
    base = np.r_[np.ones(both_right + b, bool), np.zeros(c, bool), np.zeros(200 - both_right - b - c, bool)]
    cand = np.r_[
        np.ones(both_right, bool),
        np.zeros(b, bool),
        np.ones(c, bool),
        np.zeros(200 - both_right - b - c, bool),
    ]
    result = accuracy_test(base, cand, tolerance=0.0, alpha=0.05)
    assert result.mde == pytest.approx(accuracy_mde(200, 30 / 200, 0.05))
    assert result.mde != pytest.approx(accuracy_mde(200, 2 * base.mean() * (1 - base.mean()), 0.05))


TABLES = [(b, c, n) for n in (1, 2, 3, 5, 10, 20) for b in range(n + 1) for c in range(n + 1 - b)]
# Hypotheses near both ends for every table, and two where the discriminant of the rates'
# quadratic rounds below zero (found by a scan).
HYPOTHESES = [
    *((b, c, n, d0) for b, c, n in TABLES for d0 in (-0.999999999, -0.5, 0.0, 0.3, 0.999999999)),
    (1, 0, 3, -0.19999999980000005),
    (2, 0, 3, -0.4999999995),
]


def test_the_restricted_rates_stay_in_the_parameter_space_at_every_hypothesis() -> None:
    """p_b, p_c >= 0 and p_b + p_c <= 1 (up to rounding), with p_c - p_b = d0: also where the
    unclamped root of the quadratic leaves the simplex (d0 near -1) or its discriminant rounds
    below zero."""
    for b, c, n, d0 in HYPOTHESES:
        pb, pc = _restricted_rates(b, c, n, d0)
        assert pb >= 0.0 and pc >= 0.0 and pb + pc <= 1.0 + 1e-15, (b, c, n, d0)
        assert pc - pb == pytest.approx(d0, abs=1e-12), (b, c, n, d0)


def test_p_values_are_probabilities_for_every_small_table() -> None:
    for b, c, n in TABLES:
        base = np.r_[np.ones(b, bool), np.zeros(c, bool), np.ones(n - b - c, bool)]
        cand = np.r_[np.zeros(b, bool), np.ones(c, bool), np.ones(n - b - c, bool)]
        for tolerance in (0.0, 0.05, 0.5):
            p = accuracy_test(base, cand, tolerance=tolerance, alpha=0.05).p_value
            assert 0.0 <= p <= 1.0, (b, c, n, tolerance, p)
    assert paired_score_z(0, 0, 4, 0.0) == 0.0
