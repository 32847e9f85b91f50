"""`kfops.gate.decide`: every metric's value, p-value and interval against independent references."""

from __future__ import annotations

import math
from math import comb

import numpy as np
import pytest
from scipy import optimize, special
from scipy import stats as st
from sklearn.metrics import f1_score, log_loss, roc_auc_score

from components.shared.errors import InputError
from components.shared.gate_stats.roc_auc import macro_roc_auc_test, roc_auc_test
from kfops.gate import decide

# --- helpers ------------------------------------------------------------------------------


def paired_table(both_right: int, b: int, c: int, both_wrong: int) -> tuple[list[int], list[int], list[int]]:
    """Binary labels whose correctness table is the given one.

    ``b``: baseline right and candidate wrong; ``c``: baseline wrong and candidate right.
    """
    base_ok = [True] * both_right + [True] * b + [False] * c + [False] * both_wrong
    cand_ok = [True] * both_right + [False] * b + [True] * c + [False] * both_wrong
    y_true = [1] * len(base_ok)
    return y_true, [1 if ok else 0 for ok in base_ok], [1 if ok else 0 for ok in cand_ok]


def tango_z(b: int, c: int, n: int, d0: float) -> float:
    """Score statistic of ``p_c - p_b = d0``, the restricted MLE found numerically (not by formula)."""
    r = n - b - c

    def negative_loglik(pb: float) -> float:
        pc = pb + d0
        return -(special.xlogy(b, pb) + special.xlogy(c, pc) + special.xlogy(r, 1.0 - pb - pc))

    low, high = max(0.0, -d0), (1.0 - d0) / 2.0
    pb = optimize.minimize_scalar(
        negative_loglik, bounds=(low, high), method="bounded", options={"xatol": 1e-13}
    ).x
    pc = pb + d0
    return ((c - b) / n - d0) / math.sqrt((pb + pc - d0 * d0) / n)


def brute_force_auc(positive: np.ndarray, score: np.ndarray) -> float:
    pos, neg = score[positive], score[~positive]
    wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def delong_se(positive: np.ndarray, score_b: np.ndarray, score_c: np.ndarray) -> float:
    """Standard error of AUC_c - AUC_b from DeLong's structural components, computed pair by pair."""

    def components(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos, neg = score[positive], score[~positive]
        psi = np.array([[1.0 if p > q else 0.5 if p == q else 0.0 for q in neg] for p in pos])
        return psi.mean(axis=1), psi.mean(axis=0)  # V10 per positive, V01 per negative

    v10_b, v01_b = components(score_b)
    v10_c, v01_c = components(score_c)
    m, k = len(v10_b), len(v01_b)

    def var_of_difference(x: np.ndarray, y: np.ndarray) -> float:
        dx, dy = x - x.mean(), y - y.mean()
        cov = lambda u, v: float((u * v).sum() / (len(u) - 1))  # noqa: E731
        return cov(dx, dx) + cov(dy, dy) - 2 * cov(dx, dy)

    return math.sqrt(var_of_difference(v10_c, v10_b) / m + var_of_difference(v01_c, v01_b) / k)


def binary_labels(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, n)


def binary_scores(y: np.ndarray, seed: int, separation: float) -> np.ndarray:
    """Positive-class probabilities that separate ``y`` more as ``separation`` grows."""
    rng = np.random.default_rng(seed)
    logit = separation * (2 * y - 1) + rng.normal(0, 1, len(y))
    return 1.0 / (1.0 + np.exp(-logit))


def multiclass_data(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    base = np.where(rng.random(n) < 0.8, y, rng.integers(0, k, n))
    cand = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))
    return y, base, cand


# --- accuracy -----------------------------------------------------------------------------

B7_C2 = paired_table(both_right=15, b=7, c=2, both_wrong=6)  # n = 30


def test_accuracy_mid_p_mcnemar_equals_hand_computed_binomial_tail() -> None:
    # By hand: X ~ Bin(9, 1/2); mid-p = P(X > 7) + P(X = 7) / 2 = (9 + 1)/512 + 36/1024 = 28/512.
    by_hand = (comb(9, 8) + comb(9, 9)) / 2**9 + 0.5 * comb(9, 7) / 2**9
    assert by_hand == pytest.approx(28 / 512)
    reference = st.binom.sf(7, 9, 0.5) + 0.5 * st.binom.pmf(7, 9, 0.5)
    d = decide(*B7_C2, metric="accuracy")
    assert d.p_value == pytest.approx(by_hand, rel=1e-12)
    assert d.p_value == pytest.approx(reference, rel=1e-12)
    assert "mid-p McNemar" in d.method


def test_accuracy_regresses_exactly_when_p_below_alpha() -> None:
    p = 28 / 512  # 0.0547
    assert decide(*B7_C2, alpha=0.05).regressed is False
    assert decide(*B7_C2, alpha=0.06).regressed is True
    for alpha in (0.01, 0.05, 0.0546, 0.0548, 0.1, 0.2):
        assert decide(*B7_C2, alpha=alpha).regressed == (p < alpha)


def test_accuracy_delta_and_values_from_the_table() -> None:
    d = decide(*B7_C2)
    assert d.n == 30
    assert d.delta == pytest.approx((2 - 7) / 30)
    assert d.baseline == pytest.approx(22 / 30)
    assert d.candidate == pytest.approx(17 / 30)
    assert d.higher_is_better is True and d.observed_worse


def test_accuracy_interval_is_ordered_contains_delta_and_inverts_the_score_test() -> None:
    d = decide(*B7_C2, alpha=0.05)
    low, high = d.ci
    assert low < d.delta < high
    z = st.norm.ppf(0.95)
    # Each bound is where the independently computed score statistic reaches +-z.
    assert tango_z(7, 2, 30, low) == pytest.approx(z, abs=1e-4)
    assert tango_z(7, 2, 30, high) == pytest.approx(-z, abs=1e-4)


def test_accuracy_with_tolerance_uses_score_test_and_gives_larger_p_when_candidate_worse() -> None:
    exact = decide(*B7_C2, tolerance=0.0)
    tolerant = decide(*B7_C2, tolerance=0.02)
    assert "score test" in tolerant.method and "Tango" in tolerant.method
    assert "McNemar" not in tolerant.method
    assert tolerant.p_value > exact.p_value
    assert tolerant.p_value == pytest.approx(st.norm.cdf(tango_z(7, 2, 30, -0.02)), abs=1e-7)


def test_accuracy_score_test_p_value_matches_numeric_restricted_mle_on_large_table() -> None:
    data = paired_table(both_right=700, b=120, c=80, both_wrong=100)
    for tolerance in (0.005, 0.01, 0.05):
        d = decide(*data, tolerance=tolerance)
        assert d.p_value == pytest.approx(st.norm.cdf(tango_z(120, 80, 1000, -tolerance)), abs=1e-7)


def test_all_correct_in_both_does_not_regress_and_p_is_one() -> None:
    y = [0, 1, 2, 1, 0, 2, 1] * 5
    d = decide(y, y, y)
    assert d.regressed is False
    assert d.p_value == 1.0
    assert d.delta == 0.0 and d.baseline == d.candidate == 1.0
    assert d.ci[0] <= 0.0 <= d.ci[1]


def test_all_wrong_in_both_does_not_regress() -> None:
    y = [1] * 40
    wrong = [0] * 40
    d = decide(y, wrong, wrong)
    assert d.regressed is False
    assert d.p_value == 1.0
    assert d.baseline == d.candidate == 0.0 and d.delta == 0.0


def test_identical_predictions_do_not_regress_and_have_zero_delta() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 500)
    pred = np.where(rng.random(500) < 0.7, y, rng.integers(0, 3, 500))
    for tolerance in (0.0, 0.01):
        d = decide(y, pred, pred, tolerance=tolerance)
        assert d.regressed is False
        assert d.delta == 0.0
        assert math.isfinite(d.mde) and d.mde > tolerance


def test_strictly_better_candidate_never_regresses() -> None:
    for n_better in (1, 5, 50, 200):
        data = paired_table(both_right=100, b=0, c=n_better, both_wrong=200)
        for tolerance in (0.0, 0.01, 0.1):
            d = decide(*data, tolerance=tolerance)
            assert d.regressed is False
            assert d.delta > 0
            assert d.p_value > 0.5


@pytest.mark.parametrize(
    "table",
    [(1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1), (0, 2, 0, 0), (1, 1, 0, 0), (0, 1, 1, 0)],
)
@pytest.mark.parametrize("tolerance", [0.0, 0.05])
def test_tiny_samples_work_and_do_not_regress(table: tuple[int, int, int, int], tolerance: float) -> None:
    d = decide(*paired_table(*table), tolerance=tolerance)
    assert d.regressed is False
    assert 0.0 <= d.p_value <= 1.0
    assert d.ci[0] <= d.delta <= d.ci[1]
    assert d.mde >= tolerance


def test_candidate_wrong_everywhere_baseline_right_everywhere_regresses_at_n20() -> None:
    d = decide(*paired_table(both_right=0, b=20, c=0, both_wrong=0))
    assert d.regressed is True
    assert d.delta == -1.0
    assert d.p_value == pytest.approx(0.5 * 0.5**20)


@pytest.mark.parametrize("tolerance", [0.0, 0.01])
def test_observed_accuracy_not_lower_never_fails(tolerance: float) -> None:
    rng = np.random.default_rng(12345)
    for _ in range(300):
        n = int(rng.integers(1, 400))
        cells = rng.multinomial(n, rng.dirichlet([1.0, 1.0, 1.0, 1.0]))
        both_right, b, c, both_wrong = (int(v) for v in cells)
        if c < b:
            b, c = c, b
        d = decide(*paired_table(both_right, b, c, both_wrong), tolerance=tolerance)
        assert d.delta >= 0
        assert d.regressed is False, (both_right, b, c, both_wrong, d)
        assert d.p_value >= 0.5 - 1e-12


def test_labels_compare_as_text_ints_and_strings_decide_the_same() -> None:
    y, base, cand = multiclass_data(600, 3, seed=4)
    for metric in ("accuracy", "macro_f1"):
        as_ints = decide(y, base, cand, metric=metric)
        as_text = decide(y.astype(str), base.astype(str), cand.astype(str), metric=metric)
        mixed = decide(y, base.astype(str), list(cand.astype(str)), metric=metric)
        assert as_ints == as_text == mixed


# --- macro-F1 -----------------------------------------------------------------------------


def test_macro_f1_observed_values_equal_sklearn() -> None:
    y, base, cand = multiclass_data(900, 4, seed=5)
    d = decide(y, base, cand, metric="macro_f1")
    expected_b = f1_score(y, base, average="macro")
    expected_c = f1_score(y, cand, average="macro")
    assert d.baseline == pytest.approx(expected_b, abs=1e-12)
    assert d.candidate == pytest.approx(expected_c, abs=1e-12)
    assert d.delta == pytest.approx(expected_c - expected_b, abs=1e-12)


def test_macro_f1_matches_sklearn_when_a_model_predicts_a_class_absent_from_y_true() -> None:
    rng = np.random.default_rng(6)
    y = rng.integers(0, 3, 300)
    base = np.where(rng.random(300) < 0.8, y, 3)  # predicts class 3, never true
    cand = np.where(rng.random(300) < 0.9, y, 0)
    d = decide(y, base, cand, metric="macro_f1")
    assert d.baseline == pytest.approx(f1_score(y, base, average="macro", zero_division=0), abs=1e-12)
    assert d.candidate == pytest.approx(f1_score(y, cand, average="macro", zero_division=0), abs=1e-12)


def test_macro_f1_is_deterministic() -> None:
    y, base, cand = multiclass_data(700, 3, seed=7)
    first = decide(y, base, cand, metric="macro_f1", tolerance=0.01)
    second = decide(y, base, cand, metric="macro_f1", tolerance=0.01)
    assert first == second


def test_macro_f1_clearly_worse_candidate_regresses_on_3000_examples() -> None:
    y, base, cand = multiclass_data(3000, 3, seed=8)  # ~87% vs ~80% accuracy
    d = decide(y, base, cand, metric="macro_f1")
    assert d.delta < -0.04
    assert d.regressed is True
    assert d.ci[1] < 0
    assert "bootstrap" in d.method


def test_macro_f1_identical_predictions_do_not_regress() -> None:
    y, base, _ = multiclass_data(3000, 3, seed=9)
    d = decide(y, base, base, metric="macro_f1")
    assert d.regressed is False
    assert d.delta == 0.0


# --- ROC-AUC ------------------------------------------------------------------------------


def test_roc_auc_values_equal_sklearn_and_brute_force_pairs() -> None:
    y = binary_labels(300)
    score_b = binary_scores(y, seed=10, separation=1.0)
    score_c = binary_scores(y, seed=11, separation=0.6)
    score_c = np.round(score_c, 1)  # ties
    d = decide(
        y,
        (score_b > 0.5).astype(int),
        (score_c > 0.5).astype(int),
        metric="roc_auc",
        baseline_score=score_b,
        candidate_score=score_c,
    )
    assert d.baseline == pytest.approx(roc_auc_score(y, score_b), abs=1e-12)
    assert d.candidate == pytest.approx(roc_auc_score(y, score_c), abs=1e-12)
    assert d.candidate == pytest.approx(brute_force_auc(y == 1, score_c), abs=1e-12)
    assert "DeLong" in d.method


@pytest.mark.parametrize("seed", [12, 13])
def test_roc_auc_interval_implies_delong_standard_error(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 250)
    latent = (2 * y - 1) + rng.normal(0, 1, 250)
    score_b = np.round(1 / (1 + np.exp(-(latent + rng.normal(0, 0.7, 250)))), 2)  # correlated, with ties
    score_c = np.round(1 / (1 + np.exp(-(0.5 * latent + rng.normal(0, 1.0, 250)))), 2)
    alpha = 0.05
    d = decide(y, y, y, metric="roc_auc", baseline_score=score_b, candidate_score=score_c, alpha=alpha)
    se = delong_se(y == 1, score_b, score_c)
    implied = (d.ci[1] - d.ci[0]) / (2 * st.norm.ppf(1 - alpha))
    assert implied == pytest.approx(se, rel=1e-9)
    assert d.p_value == pytest.approx(st.norm.cdf(d.delta / se), rel=1e-9)


def multiclass_scores(n: int, k: int, seed: int, signal_c: float = 1.0) -> tuple[np.ndarray, ...]:
    """Labels and two models' probabilities, correlated through a shared latent; rounded logits give ties."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    onehot, shared = np.eye(k)[y], rng.normal(0, 1, (n, k))

    def softmax(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    base = softmax(np.round(onehot + shared + rng.normal(0, 0.7, (n, k)), 1))
    cand = softmax(np.round(signal_c * onehot + shared + rng.normal(0, 0.7, (n, k)), 1))
    return y, base, cand


@pytest.mark.parametrize(("k", "seed"), [(3, 14), (4, 15), (5, 16)])
def test_multiclass_roc_auc_equals_sklearn_macro_one_vs_rest(k: int, seed: int) -> None:
    y, score_b, score_c = multiclass_scores(400, k, seed)
    labels = np.array(["ant", "bee", "cat", "dog", "eel"])[y]  # text labels, sorted as sklearn's classes_
    d = decide(labels, labels, labels, metric="roc_auc", baseline_score=score_b, candidate_score=score_c)
    # Equal up to the last bit of rounding (the class means are summed in another order).
    assert d.baseline == pytest.approx(
        roc_auc_score(labels, score_b, multi_class="ovr", average="macro"), abs=1e-12
    )
    assert d.candidate == pytest.approx(
        roc_auc_score(labels, score_c, multi_class="ovr", average="macro"), abs=1e-12
    )
    assert "one-vs-rest" in d.method and "DeLong" in d.method


def test_multiclass_roc_auc_standard_error_agrees_with_the_jackknife() -> None:
    # The jackknife of the macro difference (leave one example out, scikit-learn's AUCs) is an
    # independent estimate of the same variance, cross-class and cross-model covariance included.
    y, score_b, score_c = multiclass_scores(120, 4, seed=17, signal_c=0.8)
    alpha = 0.05
    d = decide(y, y, y, metric="roc_auc", baseline_score=score_b, candidate_score=score_c, alpha=alpha)
    se = (d.ci[1] - d.ci[0]) / (2 * st.norm.ppf(1 - alpha))

    def macro(scores: np.ndarray, keep: np.ndarray) -> float:
        return float(roc_auc_score(y[keep], scores[keep], multi_class="ovr", average="macro"))

    n = len(y)
    leave_one_out = np.array(
        [macro(score_c, np.arange(n) != i) - macro(score_b, np.arange(n) != i) for i in range(n)]
    )
    jackknife = math.sqrt((n - 1) / n * ((leave_one_out - leave_one_out.mean()) ** 2).sum())
    assert se == pytest.approx(jackknife, rel=0.03)
    assert d.p_value == pytest.approx(st.norm.cdf(d.delta / se), rel=1e-9)


def test_macro_roc_auc_test_with_two_classes_is_delongs_binary_test() -> None:
    y = binary_labels(300)
    score_b = np.round(binary_scores(y, seed=18, separation=1.0), 2)
    score_c = np.round(binary_scores(y, seed=19, separation=0.7), 2)
    binary = roc_auc_test(y == 1, score_b, score_c, tolerance=0.01, alpha=0.05)
    macro = macro_roc_auc_test(
        y,
        np.column_stack([1 - score_b, score_b]),
        np.column_stack([1 - score_c, score_c]),
        tolerance=0.01,
        alpha=0.05,
    )
    for field in ("baseline", "candidate", "delta", "p_value", "mde"):
        assert getattr(macro, field) == pytest.approx(getattr(binary, field), rel=1e-9, abs=1e-12)
    assert macro.ci == pytest.approx(binary.ci, rel=1e-9)


def test_multiclass_roc_auc_flags_a_clearly_worse_candidate_and_not_an_identical_one() -> None:
    y, score_b, score_c = multiclass_scores(1500, 3, seed=20, signal_c=0.5)
    worse = decide(y, y, y, metric="roc_auc", baseline_score=score_b, candidate_score=score_c)
    assert worse.regressed and worse.p_value < 1e-6 and worse.ci[1] < 0
    same = decide(y, y, y, metric="roc_auc", baseline_score=score_b, candidate_score=score_b.copy())
    assert not same.regressed and same.delta == 0.0 and same.p_value == 1.0 and math.isnan(same.mde)
    # The reverse comparison (a better candidate) never fails either.
    better = decide(y, y, y, metric="roc_auc", baseline_score=score_c, candidate_score=score_b)
    assert not better.regressed and better.p_value > 0.999


def test_multiclass_roc_auc_needs_every_class_in_the_evaluation_set() -> None:
    y, score_b, score_c = multiclass_scores(60, 3, seed=21)
    y = np.where(y == 2, 0, y)  # class 2 has columns but no example
    with pytest.raises(InputError, match="class '2' has no example"):
        decide(y, y, y, metric="roc_auc", baseline_score=score_b, candidate_score=score_c, classes=[0, 1, 2])


def test_roc_auc_two_column_matrix_and_positive_class_vector_agree() -> None:
    y = binary_labels(200)
    score_b = binary_scores(y, seed=15, separation=1.0)
    score_c = binary_scores(y, seed=16, separation=0.8)
    pred_b, pred_c = (score_b > 0.5).astype(int), (score_c > 0.5).astype(int)
    vector = decide(y, pred_b, pred_c, metric="roc_auc", baseline_score=score_b, candidate_score=score_c)
    matrix = decide(
        y,
        pred_b,
        pred_c,
        metric="roc_auc",
        baseline_score=np.column_stack([1 - score_b, score_b]),
        candidate_score=np.column_stack([1 - score_c, score_c]),
    )
    assert vector == matrix


# --- log loss -----------------------------------------------------------------------------


def test_log_loss_values_equal_sklearn_multiclass() -> None:
    rng = np.random.default_rng(17)
    y = rng.integers(0, 3, 400)
    proba_b = rng.dirichlet([2, 2, 2], 400)
    proba_c = rng.dirichlet([1, 1, 1], 400)
    d = decide(
        y,
        proba_b.argmax(1),
        proba_c.argmax(1),
        metric="log_loss",
        baseline_score=proba_b,
        candidate_score=proba_c,
    )
    assert d.baseline == pytest.approx(log_loss(y, proba_b, labels=[0, 1, 2]), rel=1e-12)
    assert d.candidate == pytest.approx(log_loss(y, proba_c, labels=[0, 1, 2]), rel=1e-12)
    assert d.higher_is_better is False


def test_log_loss_values_equal_sklearn_binary_vector() -> None:
    y = binary_labels(300)
    score = binary_scores(y, seed=18, separation=1.0)
    d = decide(y, y, y, metric="log_loss", baseline_score=score, candidate_score=score)
    assert d.baseline == pytest.approx(log_loss(y, score), rel=1e-12)
    assert d.delta == 0.0 and d.regressed is False


def test_log_loss_much_higher_for_candidate_regresses_and_lower_never_does() -> None:
    y = binary_labels(500)
    good = binary_scores(y, seed=19, separation=1.5)
    bad = binary_scores(y, seed=20, separation=0.1)
    worse = decide(y, y, y, metric="log_loss", baseline_score=good, candidate_score=bad)
    assert worse.delta > 0.2
    assert worse.observed_worse and worse.regressed is True
    better = decide(y, y, y, metric="log_loss", baseline_score=bad, candidate_score=good)
    assert better.delta < 0
    assert better.regressed is False and better.p_value > 0.5
    for tolerance in (0.0, 0.01, 0.1):
        assert (
            decide(
                y, y, y, metric="log_loss", baseline_score=bad, candidate_score=good, tolerance=tolerance
            ).regressed
            is False
        )


# --- errors -------------------------------------------------------------------------------

Y = [0, 1, 1, 0]
P = [0.2, 0.7, 0.6, 0.4]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "precision"}, "unknown metric"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 0.5}, "alpha"),
        ({"alpha": 0.7}, "alpha"),
        ({"alpha": -0.1}, "alpha"),
        ({"tolerance": -0.01}, "tolerance"),
        ({"metric": "roc_auc"}, "scores"),
        ({"metric": "log_loss", "baseline_score": P}, "scores"),
        ({"metric": "log_loss", "candidate_score": P}, "scores"),
        ({"metric": "roc_auc", "baseline_score": P, "candidate_score": P[:3]}, "shape"),
        ({"metric": "log_loss", "baseline_score": np.ones((4, 3)) / 3, "candidate_score": P}, "shape"),
        ({"metric": "log_loss", "baseline_score": np.ones((4, 2, 1)), "candidate_score": P}, "shape"),
    ],
)
def test_bad_arguments_raise_input_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        decide(Y, Y, Y, **kwargs)  # type: ignore[arg-type]


def test_nan_tolerance_is_rejected() -> None:
    with pytest.raises(InputError, match="tolerance"):
        decide(Y, Y, [1, 1, 1, 0], tolerance=float("nan"))


@pytest.mark.parametrize(
    ("y", "base", "cand"),
    [([0, 1, 1], [0, 1], [0, 1, 1]), ([0, 1, 1], [0, 1, 1], [0, 1, 1, 1]), ([0, 1], [0, 1, 1], [0, 1, 1])],
)
def test_length_mismatch_raises_input_error(y: list[int], base: list[int], cand: list[int]) -> None:
    with pytest.raises(InputError, match="lengths differ"):
        decide(y, base, cand)


def test_empty_input_raises_input_error() -> None:
    with pytest.raises(InputError, match="no examples"):
        decide([], [], [])


def test_label_not_among_given_classes_raises_input_error() -> None:
    with pytest.raises(InputError, match="'c' is not among the classes"):
        decide(["a", "b", "c"], ["a", "b", "b"], ["a", "b", "b"], classes=["a", "b"])
    with pytest.raises(InputError, match="not among the classes"):
        decide(
            ["a", "b"],
            ["a", "z"],
            ["a", "b"],
            metric="log_loss",
            baseline_score=[0.1, 0.9],
            candidate_score=[0.1, 0.9],
            classes=["a", "b"],
        )


def test_one_score_per_example_for_multiclass_raises_input_error() -> None:
    with pytest.raises(InputError, match="binary"):
        decide(
            [0, 1, 2],
            [0, 1, 2],
            [0, 1, 2],
            metric="log_loss",
            baseline_score=[0.5, 0.5, 0.5],
            candidate_score=[0.5, 0.5, 0.5],
        )


def test_integer_labels_default_class_order_is_numeric_like_sklearn() -> None:
    # "classes: ... (default: sorted labels)". For integer labels 0..11 and a probability
    # matrix in sorted order (as sklearn's predict_proba returns it), log loss must match sklearn.
    rng = np.random.default_rng(21)
    k, n = 12, 600
    y = rng.integers(0, k, n)
    proba = rng.dirichlet(np.ones(k), n)
    d = decide(
        y, proba.argmax(1), proba.argmax(1), metric="log_loss", baseline_score=proba, candidate_score=proba
    )
    assert d.baseline == pytest.approx(log_loss(y, proba, labels=np.arange(k)), rel=1e-9)


# --- minimum detectable effect ------------------------------------------------------------


def test_accuracy_mde_shrinks_as_n_grows() -> None:
    small = decide(*paired_table(both_right=375, b=25, c=25, both_wrong=75))  # n = 500
    large = decide(*paired_table(both_right=37500, b=2500, c=2500, both_wrong=7500))  # n = 50000
    assert small.baseline == large.baseline
    assert large.mde < small.mde / 5  # ~1/sqrt(100)
    assert 0 < large.mde < small.mde < 1


def test_accuracy_mde_solves_connor_power_equation() -> None:
    n, psi, alpha = 1000, 0.2, 0.05
    d = decide(*paired_table(both_right=700, b=100, c=100, both_wrong=100), alpha=alpha)
    za, zb = st.norm.ppf(1 - alpha), st.norm.ppf(0.8)
    drop = d.mde
    assert math.sqrt(n) * drop == pytest.approx(za * math.sqrt(psi) + zb * math.sqrt(psi - drop**2), rel=1e-8)


@pytest.mark.parametrize("tolerance", [0.001, 0.01, 0.05, 0.2])
def test_mde_is_at_least_the_tolerance(tolerance: float) -> None:
    y, base, cand = multiclass_data(800, 3, seed=22)
    assert decide(y, base, cand, tolerance=tolerance).mde >= tolerance
    assert decide(y, base, cand, metric="macro_f1", tolerance=tolerance).mde >= tolerance
    yb = binary_labels(800)
    score_b = binary_scores(yb, seed=23, separation=1.0)
    score_c = binary_scores(yb, seed=24, separation=0.7)
    for metric in ("roc_auc", "log_loss"):
        d = decide(
            yb, yb, yb, metric=metric, baseline_score=score_b, candidate_score=score_c, tolerance=tolerance
        )
        assert d.mde >= tolerance
    for table in [(0, 0, 0, 10), (10, 0, 0, 0), (5, 3, 0, 2)]:
        assert decide(*paired_table(*table), tolerance=tolerance).mde >= tolerance
