"""Paired statistics for two models scored on the same examples (numpy and scipy only).

Every test here is one-sided: it asks whether the data show, at level ``alpha``,
that the candidate is worse than the baseline by more than ``tolerance``. Each
function returns the observed difference (candidate - baseline), a one-sided
p-value, a two-sided ``1 - 2*alpha`` interval and the minimum detectable effect:
the true drop that would be caught with 80% power at this sample size.

The interval's bound on the "worse" side matches the test, except for accuracy at
tolerance 0: there the verdict comes from the exact mid-p McNemar test while the
interval is the (asymptotic) score interval, so with few disagreements the
interval may sit just below 0 while the exact test, more cautious, passes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

# scipy.stats and scipy.optimize cost ~1.5 s to import here; the gate needs only a
# normal distribution (stdlib), a binomial tail (scipy.special) and monotone root
# finding, so it uses those directly and stays fast to start.
_NORMAL = NormalDist()

POWER = 0.80
BOOTSTRAP_DRAWS = 2000
BOOTSTRAP_SEED = 0  # fixed: the same inputs always give the same verdict


@dataclass(frozen=True)
class PairedTest:
    """The outcome of one paired comparison.

    Attributes:
        baseline: Metric value of the baseline.
        candidate: Metric value of the candidate.
        delta: ``candidate - baseline``.
        p_value: One-sided p-value of "worse by more than the tolerance".
        ci: ``(low, high)`` interval of ``delta`` at level ``1 - 2*alpha``.
        mde: Smallest true drop (absolute, tolerance included) detected with 80% power.
        method: The test used, in words.
    """

    baseline: float
    candidate: float
    delta: float
    p_value: float
    ci: tuple[float, float]
    mde: float
    method: str


def _z(alpha: float) -> float:
    return _NORMAL.inv_cdf(1.0 - alpha)


def _cdf(z: float) -> float:
    if math.isinf(z):
        return 0.0 if z < 0 else 1.0
    return _NORMAL.cdf(z)


def _root(f: Callable[[float], float], lo: float, hi: float, tol: float = 1e-12) -> float:
    """Root of a monotone ``f`` on ``[lo, hi]`` whose ends have opposite signs (bisection)."""
    f_lo = f(lo)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        f_mid = f(mid)
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
        if hi - lo < tol:
            break
    return 0.5 * (lo + hi)


def _mid_p_upper_tail(b: int, m: int) -> float:
    """``P(B > b) + P(B = b) / 2`` for ``B ~ Binomial(m, 1/2)``."""
    from scipy.special import bdtr, bdtrc

    above = float(bdtrc(b, m, 0.5))
    at = float(bdtr(b, m, 0.5)) - (float(bdtr(b - 1, m, 0.5)) if b > 0 else 0.0)
    return above + 0.5 * at


# --- accuracy: paired binary outcomes ---------------------------------------------------


def _restricted_rates(b: int, c: int, n: int, d0: float) -> tuple[float, float]:
    """Maximum-likelihood (p_b, p_c) of the discordant cells under ``p_c - p_b = d0``.

    ``b`` counts examples the baseline gets right and the candidate wrong, ``c``
    the reverse. Setting the score of the multinomial likelihood to zero gives
    ``2n x^2 - B x - b d0 (1 - d0) = 0`` for ``x = p_b`` (Tango 1998).
    """
    s = 1.0 - d0
    r = n - b - c
    big_b = b * (s - 2.0 * d0) + c * s - 2.0 * r * d0
    x = (big_b + math.sqrt(max(big_b * big_b + 8.0 * n * b * d0 * s, 0.0))) / (4.0 * n)
    x = min(max(x, max(0.0, -d0)), (1.0 - d0) / 2.0)
    return x, x + d0


def paired_score_z(b: int, c: int, n: int, d0: float) -> float:
    """Score statistic for ``H0: p_c - p_b = d0`` (large when the candidate is better)."""
    pb, pc = _restricted_rates(b, c, n, d0)
    variance = (pb + pc - d0 * d0) / n
    observed = (c - b) / n
    if variance <= 0.0:
        return 0.0 if math.isclose(observed, d0, abs_tol=1e-15) else math.copysign(math.inf, observed - d0)
    return (observed - d0) / math.sqrt(variance)


def _score_interval(b: int, c: int, n: int, alpha: float) -> tuple[float, float]:
    """Invert the score test: all ``d0`` with ``|z| <= z_(1-alpha)``."""
    z = _z(alpha)
    observed = (c - b) / n
    eps = 1e-12

    def bound(target: float, lo: float, hi: float) -> float:
        f = lambda d0: paired_score_z(b, c, n, d0) - target  # noqa: E731
        if f(lo) * f(hi) > 0:
            return lo if abs(f(lo)) < abs(f(hi)) else hi
        return _root(f, lo, hi)

    low = bound(z, -1.0 + eps, observed) if observed > -1.0 + eps else -1.0
    high = bound(-z, observed, 1.0 - eps) if observed < 1.0 - eps else 1.0
    return (low, high)


def accuracy_mde(n: int, discordance: float, alpha: float, tolerance: float = 0.0) -> float:
    """Smallest accuracy drop detected with 80% power (Connor 1987, paired proportions).

    Solves ``sqrt(n) d = z_a sqrt(psi) + z_b sqrt(psi - d^2)`` for ``d``, where
    ``psi`` is the share of examples on which the models disagree in correctness.
    """
    psi = min(max(discordance, 1.0 / n), 1.0)
    za, zb = _z(alpha), _NORMAL.inv_cdf(POWER)
    g = lambda d: math.sqrt(n) * d - za * math.sqrt(psi) - zb * math.sqrt(max(psi - d * d, 0.0))  # noqa: E731
    top = math.sqrt(psi)
    drop = _root(g, 0.0, top) if g(top) > 0 else top
    return tolerance + drop


def accuracy_test(
    baseline_correct: np.ndarray, candidate_correct: np.ndarray, *, tolerance: float, alpha: float
) -> PairedTest:
    """One-sided paired test of accuracy on per-example correctness.

    With ``tolerance == 0`` this is the exact mid-p McNemar test (the baseline-only
    correct count ``b`` is Binomial(b + c, 1/2) when the models are equally
    accurate). With a tolerance it is the score test of ``delta >= -tolerance``
    (Tango's non-inferiority test for paired proportions).
    """
    base = np.asarray(baseline_correct, dtype=bool)
    cand = np.asarray(candidate_correct, dtype=bool)
    n = len(base)
    b = int(np.count_nonzero(base & ~cand))
    c = int(np.count_nonzero(~base & cand))
    delta = (c - b) / n
    if tolerance == 0.0:
        m = b + c
        # No discordant example: the data carry no evidence of a difference.
        p = 1.0 if m == 0 else _mid_p_upper_tail(b, m)
        method = "exact mid-p McNemar test, one-sided"
    else:
        p = _cdf(paired_score_z(b, c, n, -tolerance))
        method = "paired score test against the tolerance (Tango), one-sided"
    discordance = (b + c) / n
    if b + c == 0:  # identical correctness: assume independent errors for the power figure
        accuracy = float(base.mean())
        discordance = 2.0 * accuracy * (1.0 - accuracy)
    return PairedTest(
        baseline=float(base.mean()),
        candidate=float(cand.mean()),
        delta=delta,
        p_value=min(max(p, 0.0), 1.0),
        ci=_score_interval(b, c, n, alpha),
        mde=accuracy_mde(n, discordance, alpha, tolerance),
        method=method,
    )


# --- normal-theory paired differences ---------------------------------------------------


def normal_test(
    baseline: float,
    candidate: float,
    se: float,
    *,
    higher_is_better: bool,
    tolerance: float,
    alpha: float,
    method: str,
) -> PairedTest:
    """One-sided test of "worse by more than ``tolerance``" from a paired standard error."""
    delta = candidate - baseline
    gain = delta if higher_is_better else -delta  # > 0 means the candidate is better
    p = _cdf((gain + tolerance) / se) if se > 0.0 else 0.0 if gain < -tolerance else 1.0
    half = _z(alpha) * se
    # With no variation in the paired differences (e.g. identical predictions) the
    # data say nothing about power: the figure is unknown, not zero.
    mde = tolerance + (_z(alpha) + _NORMAL.inv_cdf(POWER)) * se if se > 0 else math.nan
    return PairedTest(baseline, candidate, delta, p, (delta - half, delta + half), mde, method)


def log_loss_test(
    baseline_proba_true: np.ndarray, candidate_proba_true: np.ndarray, *, tolerance: float, alpha: float
) -> PairedTest:
    """Paired normal interval on per-example log-loss differences (lower is better).

    Args:
        baseline_proba_true: Each example's probability of its true class under the baseline.
        candidate_proba_true: The same under the candidate.
        tolerance: Allowed increase of log loss.
        alpha: Level.
    """
    eps = float(np.finfo(np.float64).eps)  # as scikit-learn's log_loss clips, so the run record agrees
    lb = -np.log(np.clip(np.asarray(baseline_proba_true, dtype=float), eps, 1.0))
    lc = -np.log(np.clip(np.asarray(candidate_proba_true, dtype=float), eps, 1.0))
    diff = lc - lb
    se = float(diff.std(ddof=1) / math.sqrt(len(diff))) if len(diff) > 1 else 0.0
    return normal_test(
        float(lb.mean()),
        float(lc.mean()),
        se,
        higher_is_better=False,
        tolerance=tolerance,
        alpha=alpha,
        method="paired normal interval on per-example log loss",
    )


def _structural_components(scores: np.ndarray, positive: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """DeLong's placement values of one score vector, from one sort (O(n log n)).

    A positive's placement is the share of negatives scored below it (ties count
    half), a negative's one minus the share of positives scored below it (ties
    half): the same numbers as DeLong's midrank formulas, with one ``argsort``
    instead of three.
    """
    m, k = int(positive.sum()), int(len(positive) - positive.sum())
    order = np.argsort(scores)
    ordered = scores[order]
    is_pos = positive[order]
    starts_group = np.empty(len(ordered), dtype=bool)
    starts_group[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts_group[1:])
    group = np.cumsum(starts_group) - 1
    pos_in_group = np.bincount(group, weights=is_pos)
    neg_in_group = np.bincount(group) - pos_in_group
    pos_before = np.cumsum(pos_in_group) - pos_in_group
    neg_before = np.cumsum(neg_in_group) - neg_in_group
    placement_pos = (neg_before + 0.5 * neg_in_group) / k  # per group
    placement_neg = 1.0 - (pos_before + 0.5 * pos_in_group) / m
    # Back to the input order, positives and negatives each in their original order.
    sorted_group = np.empty(len(ordered), dtype=group.dtype)
    sorted_group[order] = group
    v10 = placement_pos[sorted_group[positive]]
    v01 = placement_neg[sorted_group[~positive]]
    return float(v10.mean()), v10, v01


def roc_auc_test(
    y_positive: np.ndarray,
    baseline_score: np.ndarray,
    candidate_score: np.ndarray,
    *,
    tolerance: float,
    alpha: float,
) -> PairedTest:
    """DeLong's test for two correlated ROC-AUCs (higher is better).

    Raises:
        ValueError: Only one class is present.
    """
    positive = np.asarray(y_positive, dtype=bool)
    m, k = int(positive.sum()), int((~positive).sum())
    if m == 0 or k == 0:
        raise ValueError("ROC-AUC needs both classes in the evaluation set")
    auc_b, v10_b, v01_b = _structural_components(np.asarray(baseline_score, dtype=float), positive)
    auc_c, v10_c, v01_c = _structural_components(np.asarray(candidate_score, dtype=float), positive)
    var10 = np.cov(np.vstack([v10_c, v10_b])) if m > 1 else np.zeros((2, 2))
    var01 = np.cov(np.vstack([v01_c, v01_b])) if k > 1 else np.zeros((2, 2))
    variance = (var10[0, 0] + var10[1, 1] - 2 * var10[0, 1]) / m + (
        var01[0, 0] + var01[1, 1] - 2 * var01[0, 1]
    ) / k
    se = math.sqrt(max(float(variance), 0.0))
    return normal_test(
        auc_b,
        auc_c,
        se,
        higher_is_better=True,
        tolerance=tolerance,
        alpha=alpha,
        method="DeLong test for correlated ROC-AUCs",
    )


def _placements(scores: np.ndarray, positive: np.ndarray) -> tuple[float, np.ndarray]:
    """One class's AUC and every example's DeLong placement value, in input order (one sort)."""
    auc, v10, v01 = _structural_components(scores, positive)
    placement = np.empty(len(positive))
    placement[positive] = v10
    placement[~positive] = v01
    return auc, placement


def macro_roc_auc_test(
    y_index: np.ndarray,
    baseline_scores: np.ndarray,
    candidate_scores: np.ndarray,
    *,
    tolerance: float,
    alpha: float,
) -> PairedTest:
    """DeLong's test for two correlated macro one-vs-rest ROC-AUCs (higher is better).

    The macro AUC is the mean over classes of the AUC of "class j vs the rest" on
    score column ``j`` (scikit-learn's ``roc_auc_score(..., multi_class="ovr",
    average="macro")``). Each class and model gives DeLong's placement values (one
    sort each); example ``i``'s centred placement, divided by its side's share
    (``m_j/n`` for the class's examples, ``k_j/n`` for the rest), is its influence
    on that AUC. Those ``n x 2K`` influences give the covariance matrix of all
    ``2K`` AUCs, across classes and models (an example is a positive for one class
    and a negative for the others, and both models score it); the macro difference
    is the linear contrast ``(1/K)(+1 ... +1, -1 ... -1)`` of it. Each side's
    influences are scaled by ``sqrt(m/(m-1))`` (``sqrt(k/(k-1))``), so that each
    class's own variance is DeLong's exactly; with two classes the test is
    DeLong's binary test.

    Args:
        y_index: Each example's class index, ``0 .. K-1``.
        baseline_scores: ``(n, K)`` scores, column ``j`` for class ``j``.
        candidate_scores: The same for the candidate.
        tolerance: Allowed drop of the macro AUC (absolute).
        alpha: Level.

    Raises:
        ValueError: A class has no example, or every example is of one class.
    """
    y = np.asarray(y_index, dtype=np.int64)
    base = np.asarray(baseline_scores, dtype=float)
    cand = np.asarray(candidate_scores, dtype=float)
    n, k_classes = base.shape
    counts = np.bincount(y, minlength=k_classes)
    if (counts == 0).any() or (counts == n).any():
        missing = int(np.argmin(counts)) if (counts == 0).any() else None
        detail = f"class index {missing} has no example" if missing is not None else "only one class"
        raise ValueError(f"one-vs-rest ROC-AUC needs every class in the evaluation set ({detail})")
    influence = np.empty((n, 2 * k_classes))
    aucs = np.empty(2 * k_classes)
    for j in range(k_classes):
        positive = y == j
        m, k = int(counts[j]), n - int(counts[j])
        # The placement's centre, share and small-sample scale per example: its side's.
        scale = np.where(
            positive,
            n / m * (math.sqrt(m / (m - 1)) if m > 1 else 0.0),
            n / k * (math.sqrt(k / (k - 1)) if k > 1 else 0.0),
        )
        for column, scores in ((j, cand), (k_classes + j, base)):
            auc, placement = _placements(scores[:, j], positive)
            aucs[column] = auc
            influence[:, column] = scale * (placement - auc)
    # The covariance matrix of the 2K AUCs is influence.T @ influence / n^2 and the variance
    # of the macro difference is contrast @ covariance @ contrast = |influence @ contrast|^2 / n^2;
    # contracting first (candidate minus baseline per class, then the class mean) keeps it
    # exactly 0 for identical models, where the matrix form leaves rounding noise.
    contrast = (influence[:, :k_classes] - influence[:, k_classes:]).mean(axis=1)
    variance = float(contrast @ contrast) / (n * n)
    auc_c, auc_b = float(aucs[:k_classes].mean()), float(aucs[k_classes:].mean())
    return normal_test(
        auc_b,
        auc_c,
        math.sqrt(max(variance, 0.0)),
        higher_is_better=True,
        tolerance=tolerance,
        alpha=alpha,
        method=f"DeLong test for correlated macro one-vs-rest ROC-AUCs ({k_classes} classes)",
    )


# --- macro-F1: multinomial bootstrap over joint confusion cells --------------------------


def _macro_f1(confusion: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Macro-F1 of confusion matrices ``(..., K, K)`` [true, predicted] over ``labels``."""
    tp = np.diagonal(confusion, axis1=-2, axis2=-1).astype(float)
    predicted = confusion.sum(axis=-2)
    actual = confusion.sum(axis=-1)
    denominator = predicted + actual
    f1 = np.divide(2.0 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return f1[..., labels].mean(axis=-1)


def macro_f1_test(
    y_true: np.ndarray,
    baseline_pred: np.ndarray,
    candidate_pred: np.ndarray,
    n_classes: int,
    *,
    tolerance: float,
    alpha: float,
    draws: int = BOOTSTRAP_DRAWS,
) -> PairedTest:
    """Bootstrap interval for the macro-F1 difference, resampling joint confusion cells.

    Each example falls in one cell ``(true, baseline prediction, candidate
    prediction)``; resampling the ``K**3`` cell counts from a multinomial is the
    same as a paired per-row bootstrap, at a cost independent of the row count.

    Args:
        y_true: True class indices ``0..K-1``.
        baseline_pred: Baseline predicted class indices.
        candidate_pred: Candidate predicted class indices.
        n_classes: ``K``.
        tolerance: Allowed decrease.
        alpha: Level.
        draws: Bootstrap draws.
    """
    k = n_classes
    n = len(y_true)
    cells = np.bincount((y_true * k + baseline_pred) * k + candidate_pred, minlength=k**3)
    # Labels as scikit-learn's macro average sees them: present in y_true or in that model's predictions.
    labels_b = np.flatnonzero(np.bincount(np.concatenate([y_true, baseline_pred]), minlength=k))
    labels_c = np.flatnonzero(np.bincount(np.concatenate([y_true, candidate_pred]), minlength=k))

    def scores(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cube = counts.reshape(*counts.shape[:-1], k, k, k)
        return _macro_f1(cube.sum(axis=-1), labels_b), _macro_f1(cube.sum(axis=-2), labels_c)

    base, cand = (float(v) for v in scores(cells))
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    sample = rng.multinomial(n, cells / n, size=draws)
    boot_b, boot_c = scores(sample)
    deltas = boot_c - boot_b
    p = float((1 + np.count_nonzero(deltas >= -tolerance)) / (draws + 1))
    low, high = (float(q) for q in np.quantile(deltas, [alpha, 1.0 - alpha]))
    sd = float(deltas.std(ddof=1))
    mde = tolerance + (_z(alpha) + _NORMAL.inv_cdf(POWER)) * sd if sd > 0 else math.nan
    return PairedTest(
        base,
        cand,
        cand - base,
        p,
        (low, high),
        mde,
        f"multinomial bootstrap over joint confusion cells ({draws} draws)",
    )


# --- regression: paired per-example errors ------------------------------------------------


def _errors(y_true: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    return np.asarray(prediction, dtype=float) - np.asarray(y_true, dtype=float)


def _se(values: np.ndarray) -> float:
    return float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else 0.0


def rmse_test(
    y_true: np.ndarray,
    baseline_pred: np.ndarray,
    candidate_pred: np.ndarray,
    *,
    tolerance: float,
    alpha: float,
) -> PairedTest:
    """Paired test of RMSE (lower is better) on per-example squared errors.

    The RMSE difference's standard error comes from the delta method: each example
    contributes ``(e_c² - MSE_c) / (2 RMSE_c) - (e_b² - MSE_b) / (2 RMSE_b)``, so the test
    is, at tolerance 0, the paired test of the squared-error differences (the Pitman-Morgan
    test of equal error variances when errors are centred), with tolerance and interval in
    RMSE units. Squared errors of heavy-tailed errors have a heavy tail themselves, so the
    normal approximation needs more examples there (benchmarks/regression_gate_simulation.py).
    """
    sq_b = _errors(y_true, baseline_pred) ** 2
    sq_c = _errors(y_true, candidate_pred) ** 2
    mse_b, mse_c = float(sq_b.mean()), float(sq_c.mean())
    rmse_b, rmse_c = math.sqrt(mse_b), math.sqrt(mse_c)

    def influence(sq: np.ndarray, mse: float, rmse: float) -> np.ndarray:
        # A perfect model (every error 0) has no variation to contribute.
        return (sq - mse) / (2.0 * rmse) if rmse > 0 else np.zeros_like(sq)

    se = _se(influence(sq_c, mse_c, rmse_c) - influence(sq_b, mse_b, rmse_b))
    return normal_test(
        rmse_b,
        rmse_c,
        se,
        higher_is_better=False,
        tolerance=tolerance,
        alpha=alpha,
        method="paired normal test on per-example squared errors (delta method for RMSE)",
    )


def mae_test(
    y_true: np.ndarray,
    baseline_pred: np.ndarray,
    candidate_pred: np.ndarray,
    *,
    tolerance: float,
    alpha: float,
) -> PairedTest:
    """Paired normal test on per-example absolute-error differences (lower is better)."""
    abs_b = np.abs(_errors(y_true, baseline_pred))
    abs_c = np.abs(_errors(y_true, candidate_pred))
    return normal_test(
        float(abs_b.mean()),
        float(abs_c.mean()),
        _se(abs_c - abs_b),
        higher_is_better=False,
        tolerance=tolerance,
        alpha=alpha,
        method="paired normal test on per-example absolute errors",
    )


def r2_test(
    y_true: np.ndarray,
    baseline_pred: np.ndarray,
    candidate_pred: np.ndarray,
    *,
    tolerance: float,
    alpha: float,
) -> PairedTest:
    """Paired test of R² (higher is better): on the same examples both share the target's
    spread, so ``ΔR² = -(MSE_c - MSE_b) / spread`` and the squared-error differences give its error."""
    truth = np.asarray(y_true, dtype=float)
    sq_b = _errors(truth, baseline_pred) ** 2
    sq_c = _errors(truth, candidate_pred) ** 2
    spread = float(((truth - truth.mean()) ** 2).mean())
    if spread <= 0:
        spread = 1.0  # a constant target: R² is 0 for every model (as evaluate reports it)
        r2_b = r2_c = 0.0
        se = 0.0
    else:
        r2_b, r2_c = 1.0 - float(sq_b.mean()) / spread, 1.0 - float(sq_c.mean()) / spread
        se = _se(sq_c - sq_b) / spread
    return normal_test(
        r2_b,
        r2_c,
        se,
        higher_is_better=True,
        tolerance=tolerance,
        alpha=alpha,
        method="paired normal test on per-example squared errors (R² on a shared target)",
    )
