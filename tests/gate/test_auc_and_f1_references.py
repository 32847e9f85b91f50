"""ROC-AUC and macro-F1 tests against textbook references, small and tied samples included.

DeLong's variance is recomputed here from its definition (DeLong, DeLong & Clarke-Pearson
1988: every positive-negative pair compared, O(m k)); macro-F1 values come from scikit-learn.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st
from sklearn.metrics import f1_score

from components.shared.gate_stats.macro_f1 import macro_f1_test
from components.shared.gate_stats.paired import BOOTSTRAP_SEED
from components.shared.gate_stats.roc_auc import macro_roc_auc_test, roc_auc_test

Z95 = st.norm.ppf(0.95)


def delong_reference(
    positive: np.ndarray, score_b: np.ndarray, score_c: np.ndarray
) -> tuple[float, float, float]:
    """(AUC_b, AUC_c, standard error of AUC_c - AUC_b) straight from the pairwise definition."""

    def components(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = score[positive], score[~positive]
        psi = (x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :])
        return psi.mean(axis=1), psi.mean(axis=0)  # V10 per positive, V01 per negative

    v10_b, v01_b = components(score_b)
    v10_c, v01_c = components(score_c)
    m, k = len(v10_b), len(v01_b)

    def variance_of_difference(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.var(a - b, ddof=1)) if len(a) > 1 else 0.0  # one sample: no variation seen

    variance = variance_of_difference(v10_c, v10_b) / m + variance_of_difference(v01_c, v01_b) / k
    return float(v10_b.mean()), float(v10_c.mean()), math.sqrt(variance)


CASES = {
    "untied": (60, 40, 0),
    "tied scores": (50, 50, 1),
    "one positive": (1, 30, 2),
    "two positives": (2, 30, 3),
    "one negative": (25, 1, 4),
    "two negatives": (25, 2, 5),
}


@pytest.mark.parametrize("case", CASES)
def test_delong_matches_the_pairwise_definition(case: str) -> None:
    m, k, seed = CASES[case]
    rng = np.random.default_rng(seed)
    positive = np.r_[np.ones(m, bool), np.zeros(k, bool)]
    rng.shuffle(positive)
    score_b = rng.normal(positive * 1.0, 1.0)
    score_c = 0.6 * score_b + rng.normal(positive * 0.5, 1.0)
    if case == "tied scores":
        score_b, score_c = np.round(score_b, 0), np.round(score_c, 0)
    auc_b, auc_c, se = delong_reference(positive, score_b, score_c)
    result = roc_auc_test(positive, score_b, score_c, tolerance=0.01, alpha=0.05)
    assert (result.baseline, result.candidate) == pytest.approx((auc_b, auc_c), rel=1e-12)
    assert result.ci == pytest.approx(
        (auc_c - auc_b - Z95 * se, auc_c - auc_b + Z95 * se), rel=1e-9, abs=1e-12
    )
    if se > 0:
        assert result.p_value == pytest.approx(st.norm.cdf((auc_c - auc_b + 0.01) / se), rel=1e-9)


@pytest.mark.parametrize("case", ["one positive", "two positives", "one negative", "tied scores"])
def test_the_macro_test_with_two_classes_is_the_binary_test_on_small_sides_too(case: str) -> None:
    m, k, seed = CASES[case]
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(m, int), np.zeros(k, int)]
    score_b = rng.uniform(0, 1, m + k).round(1)
    score_c = rng.uniform(0, 1, m + k).round(1)
    binary = roc_auc_test(y == 1, score_b, score_c, tolerance=0.0, alpha=0.05)
    macro = macro_roc_auc_test(
        y,
        np.column_stack([1 - score_b, score_b]),
        np.column_stack([1 - score_c, score_c]),
        tolerance=0.0,
        alpha=0.05,
    )
    assert macro.ci == pytest.approx(binary.ci, rel=1e-9, abs=1e-12)
    assert macro.candidate == pytest.approx(binary.candidate, rel=1e-12)


def test_roc_auc_needs_both_classes() -> None:
    for positive in (np.ones(5, bool), np.zeros(5, bool)):
        with pytest.raises(ValueError, match="needs both classes"):
            roc_auc_test(positive, np.arange(5.0), np.arange(5.0), tolerance=0.0, alpha=0.05)


def test_macro_roc_auc_names_a_class_without_examples_and_a_single_class() -> None:
    scores = np.full((4, 3), 1 / 3)
    with pytest.raises(ValueError, match="class index 1 has no example"):
        macro_roc_auc_test(np.array([0, 2, 0, 2]), scores, scores, tolerance=0.0, alpha=0.05)
    with pytest.raises(ValueError, match=r"\(only one class\)"):
        macro_roc_auc_test(np.zeros(4, int), np.ones((4, 1)), np.ones((4, 1)), tolerance=0.0, alpha=0.05)


def _labels_and_predictions(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    base = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))
    cand = np.where(rng.random(n) < 0.6, y, rng.integers(0, k, n))
    return y, base, cand


@pytest.mark.parametrize("draws", [2, 40])
def test_the_macro_f1_bootstrap_resamples_joint_cells_and_scores_with_scikit_learn(draws: int) -> None:
    """Each draw is a multinomial sample of the (true, baseline, candidate) cell counts; its
    macro-F1s, over the labels the full set shows for each model, are scikit-learn's."""
    k, tolerance, alpha = 4, 0.01, 0.1
    y, base, cand = _labels_and_predictions(150, k, seed=7)
    base[base == 3] = 2  # the baseline never predicts class 3: F1 of that class is 0 for it
    result = macro_f1_test(y, base, cand, k, tolerance=tolerance, alpha=alpha, draws=draws)
    labels_b, labels_c = np.unique(np.r_[y, base]), np.unique(np.r_[y, cand])

    def f1(truth: np.ndarray, pred: np.ndarray, labels: np.ndarray) -> float:
        return f1_score(truth, pred, labels=labels, average="macro", zero_division=0)

    assert result.baseline == pytest.approx(f1(y, base, labels_b))
    assert result.candidate == pytest.approx(f1(y, cand, labels_c))
    cells = np.bincount((y * k + base) * k + cand, minlength=k**3)
    sample = np.random.default_rng(BOOTSTRAP_SEED).multinomial(len(y), cells / len(y), size=draws)
    deltas = []
    for counts in sample:
        index = np.repeat(np.arange(k**3), counts)
        t, b, c = index // (k * k), index // k % k, index % k
        deltas.append(f1(t, c, labels_c) - f1(t, b, labels_b))
    deltas_array = np.array(deltas)
    assert result.p_value == pytest.approx((1 + np.count_nonzero(deltas_array >= -tolerance)) / (draws + 1))
    assert result.ci == pytest.approx(tuple(np.quantile(deltas_array, [alpha, 1 - alpha])))
    sd = deltas_array.std(ddof=1)
    assert result.mde == pytest.approx(tolerance + (st.norm.ppf(1 - alpha) + st.norm.ppf(0.8)) * sd)


def test_macro_f1_of_identical_predictions_has_no_spread() -> None:
    y, base, _ = _labels_and_predictions(80, 3, seed=8)
    result = macro_f1_test(y, base, base.copy(), 3, tolerance=0.0, alpha=0.05)
    assert result.delta == 0.0 and result.ci == (0.0, 0.0) and math.isnan(result.mde)
    assert result.p_value == 1.0  # every draw is "not worse"
