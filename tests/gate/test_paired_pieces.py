"""The shared pieces of the paired tests (normal test, root finding, the result) and log loss."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats as st
from sklearn.metrics import log_loss

from components.shared.gate_stats.log_loss import log_loss_test
from components.shared.gate_stats.paired import PairedTest, monotone_root, normal_cdf, normal_test

Z95 = st.norm.ppf(0.95)


def test_the_normal_distribution_function_is_exact_at_both_infinities() -> None:
    assert normal_cdf(-math.inf) == 0.0 and normal_cdf(math.inf) == 1.0
    for z in (-3.0, -0.5, 0.0, 1.7):
        assert normal_cdf(z) == pytest.approx(st.norm.cdf(z), rel=1e-12)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_a_root_is_found_for_rising_and_falling_functions(sign: float) -> None:
    assert monotone_root(lambda x: sign * (x - 0.3), 0.0, 1.0) == pytest.approx(0.3, abs=1e-11)


def test_a_root_at_either_end_of_the_bracket_is_found() -> None:
    assert monotone_root(lambda x: x, 0.0, 1.0) == pytest.approx(0.0, abs=1e-11)
    assert monotone_root(lambda x: x - 1.0, 0.0, 1.0) == pytest.approx(1.0, abs=1e-11)


def test_root_finding_stops_once_the_bracket_is_narrower_than_the_tolerance() -> None:
    # Each evaluation may be costly (a restricted MLE): bisection stops as soon as it may.
    calls: list[float] = []

    def f(x: float) -> float:
        calls.append(x)
        return x - 0.3

    root = monotone_root(f, 0.0, 1.0, tol=0.25)
    assert abs(root - 0.3) < 0.25
    assert calls == [0.0, 0.5, 0.25, 0.375]  # the ends' width falls 1, 0.5, 0.25, 0.125: 3 halvings
    assert root == pytest.approx((0.25 + 0.375) / 2)


def test_a_paired_result_cannot_be_changed_after_the_fact() -> None:
    result = normal_test(0.8, 0.7, 0.01, higher_is_better=True, tolerance=0.0, alpha=0.05, method="m")
    assert isinstance(result, PairedTest)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.p_value = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("baseline", "candidate", "higher_is_better", "p_value"),
    [
        # binary fractions, so "exactly the tolerance" is exact
        (0.75, 0.25, True, 0.0),  # worse by 0.5, beyond the tolerance of 0.25: shown without doubt
        (0.75, 0.50, True, 1.0),  # worse by exactly the tolerance: not beyond it
        (0.75, 0.625, True, 1.0),  # worse, but within the tolerance
        (0.75, 1.0, True, 1.0),  # better
        (0.25, 0.75, False, 0.0),  # lower is better: 0.5 higher is worse beyond the tolerance
        (0.25, 0.375, False, 1.0),
    ],
)
def test_without_variation_the_p_value_says_only_whether_the_drop_exceeds_the_tolerance(
    baseline: float, candidate: float, higher_is_better: bool, p_value: float
) -> None:
    result = normal_test(
        baseline, candidate, 0.0, higher_is_better=higher_is_better, tolerance=0.25, alpha=0.05, method="m"
    )
    delta = candidate - baseline
    assert result.p_value == p_value
    assert result.ci == (delta, delta) and math.isnan(result.mde)


def test_the_normal_test_is_one_sided_against_the_tolerance() -> None:
    result = normal_test(0.80, 0.78, 0.01, higher_is_better=True, tolerance=0.005, alpha=0.05, method="m")
    assert result.p_value == pytest.approx(st.norm.cdf((-0.02 + 0.005) / 0.01))
    assert result.ci == pytest.approx((-0.02 - Z95 * 0.01, -0.02 + Z95 * 0.01))
    assert result.mde == pytest.approx(0.005 + (Z95 + st.norm.ppf(0.8)) * 0.01)


def _probabilities(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0.05, 1.0, n), rng.uniform(0.02, 1.0, n)


def test_log_loss_values_interval_and_p_value_are_the_paired_normal_test() -> None:
    base, cand = _probabilities(300, seed=1)
    result = log_loss_test(base, cand, tolerance=0.01, alpha=0.05)
    per_b, per_c = -np.log(base), -np.log(cand)
    # The per-example values average to scikit-learn's log loss of the true class.
    ones = np.ones(300)
    assert result.baseline == pytest.approx(log_loss(ones, base, labels=[0, 1]))
    assert result.candidate == pytest.approx(log_loss(ones, cand, labels=[0, 1]))
    diff = per_c - per_b
    se = diff.std(ddof=1) / math.sqrt(300)
    assert result.delta == pytest.approx(diff.mean())
    assert result.p_value == pytest.approx(st.norm.cdf((-diff.mean() + 0.01) / se))
    assert result.ci == pytest.approx((diff.mean() - Z95 * se, diff.mean() + Z95 * se))


def test_log_loss_clips_certain_mistakes_as_scikit_learn_does() -> None:
    base, cand = np.array([0.9, 0.8, 0.7]), np.array([0.0, 0.8, 1.0])
    result = log_loss_test(base, cand, tolerance=0.0, alpha=0.05)
    assert math.isfinite(result.candidate)
    assert result.candidate == pytest.approx(log_loss(np.ones(3), cand, labels=[0, 1]))


def test_log_loss_of_one_example_has_no_variation_and_of_two_does() -> None:
    one = log_loss_test(np.array([0.9]), np.array([0.5]), tolerance=0.0, alpha=0.05)
    assert one.ci == (one.delta, one.delta) and math.isnan(one.mde)
    two = log_loss_test(np.array([0.9, 0.6]), np.array([0.5, 0.7]), tolerance=0.0, alpha=0.05)
    assert two.ci[1] > two.ci[0] and math.isfinite(two.mde)
