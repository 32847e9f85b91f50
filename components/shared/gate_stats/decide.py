"""``decide``: did the candidate regress against the baseline on the same examples?"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from components.shared.errors import InputError
from components.shared.gate_stats.accuracy import accuracy_test
from components.shared.gate_stats.log_loss import log_loss_test
from components.shared.gate_stats.macro_f1 import macro_f1_test
from components.shared.gate_stats.metrics import METRICS, MetricSpec
from components.shared.gate_stats.paired import PairedTest
from components.shared.gate_stats.regression import mae_test, r2_test, rmse_test
from components.shared.gate_stats.roc_auc import macro_roc_auc_test, roc_auc_test
from components.shared.tasks import REGRESSION

_REGRESSION_TESTS = {"rmse": rmse_test, "mae": mae_test, "r2": r2_test}


def _numbers(values: Any, name: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be numbers for a regression metric") from None
    if not np.isfinite(array).all():
        raise InputError(f"{name} holds a missing or infinite value")
    return array


@dataclass(frozen=True)
class Decision:
    """The gate's decision on one metric.

    Attributes:
        metric: Metric name.
        regressed: The data show, at level ``alpha``, the candidate worse by more than ``tolerance``.
        delta: ``candidate - baseline``.
        p_value: One-sided p-value of that regression.
        ci: Interval of ``delta`` at level ``1 - 2*alpha``.
        mde: Smallest true drop (tolerance included) detected with 80% power at this ``n``
            (NaN when the paired differences show no variation to estimate it from).
        baseline: Baseline value.
        candidate: Candidate value.
        n: Number of examples.
        tolerance: Allowed worsening (absolute).
        alpha: Level.
        higher_is_better: Direction of the metric.
        method: The test, in words.
    """

    metric: str
    regressed: bool
    delta: float
    p_value: float
    ci: tuple[float, float]
    mde: float
    baseline: float
    candidate: float
    n: int
    tolerance: float
    alpha: float
    higher_is_better: bool
    method: str

    @property
    def observed_worse(self) -> bool:
        """Whether the candidate's observed value is worse than the baseline's."""
        return self.delta < 0 if self.higher_is_better else self.delta > 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = asdict(self)
        data["ci"] = list(self.ci)
        data["mde"] = None if math.isnan(self.mde) else self.mde  # JSON has no NaN
        return data


def _encode(arrays: list[np.ndarray], classes: Sequence[Any] | None) -> tuple[list[str], list[np.ndarray]]:
    """Map labels to class indices; labels compare as text, so ``1`` and ``"1"`` agree.

    Hash-based (``pandas.factorize``) on each array's native type, then only the
    few distinct values are turned into text: fast at a million rows.
    """
    import pandas as pd

    factorized = [pd.factorize(np.asarray(a), use_na_sentinel=False) for a in arrays]
    distinct = {v for _, uniques in factorized for v in np.asarray(uniques).tolist()}
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in distinct)
    # Sorted as scikit-learn orders classes_: numerically for numbers (2 before 10).
    seen = [str(v) for v in sorted(distinct)] if numeric else sorted({str(v) for v in distinct})
    names = [str(c) for c in classes] if classes is not None else seen
    index = {name: i for i, name in enumerate(names)}
    unknown = [v for v in seen if v not in index]
    if unknown:
        raise InputError(f"label {unknown[0]!r} is not among the classes {names}")
    codes = []
    for local, uniques in factorized:
        lookup = np.asarray([index[str(v)] for v in np.asarray(uniques).tolist()], dtype=np.int64)
        codes.append(lookup[local])
    return names, codes


def _scores_matrix(scores: Any, n: int, n_classes: int, name: str) -> np.ndarray:
    matrix = np.asarray(scores, dtype=float)
    if matrix.ndim == 1:
        if n_classes != 2:
            raise InputError(f"{name}: one score per example only works for binary labels")
        matrix = np.column_stack([1.0 - matrix, matrix])
    if matrix.shape != (n, n_classes):
        raise InputError(f"{name}: expected scores of shape ({n}, {n_classes}), got {matrix.shape}")
    return matrix


def decide(
    y_true: Sequence[Any] | np.ndarray,
    baseline_pred: Sequence[Any] | np.ndarray,
    candidate_pred: Sequence[Any] | np.ndarray,
    *,
    metric: str = "accuracy",
    baseline_score: Any = None,
    candidate_score: Any = None,
    tolerance: float = 0.0,
    alpha: float = 0.05,
    classes: Sequence[Any] | None = None,
) -> Decision:
    """Decide whether the candidate regressed against the baseline on ``metric``.

    Both models must have been scored on the same examples, in the same order.

    Args:
        y_true: True labels.
        baseline_pred: Baseline predictions.
        candidate_pred: Candidate predictions.
        metric: ``accuracy`` (paired McNemar / score test), ``macro_f1`` (bootstrap over
            joint confusion cells), ``roc_auc`` (DeLong; with more than two classes the
            macro one-vs-rest AUC, DeLong's components per class with their covariance
            across classes and models) or ``log_loss``
            (paired normal interval); for regression ``rmse`` (paired test on squared
            errors), ``mae`` (on absolute errors) or ``r2`` (numbers, not labels).
        baseline_score: For ``roc_auc``/``log_loss``: the positive-class probability
            per example (binary) or an ``(n, K)`` probability matrix whose columns
            follow ``classes``.
        candidate_score: The same for the candidate.
        tolerance: Worsening allowed before it counts as a regression (absolute, >= 0).
        alpha: Level of the one-sided test, in (0, 0.5).
        classes: Class labels in score-column order (default: sorted labels, numerically
            when they are numbers, as scikit-learn's ``classes_``).

    Returns:
        The `Decision`.

    Raises:
        InputError: Mismatched lengths, no examples, an unknown metric, missing
            scores, or a bad ``alpha``/``tolerance``.
    """
    spec = METRICS.get(metric)
    if spec is None:
        raise InputError(f"unknown metric {metric!r}; metrics: {', '.join(METRICS)}")
    if not 0.0 < alpha < 0.5:
        raise InputError(f"alpha must be in (0, 0.5), got {alpha}")
    if not (math.isfinite(tolerance) and tolerance >= 0.0):
        raise InputError(f"tolerance must be a number >= 0, got {tolerance}")
    lengths = [len(np.asarray(a)) for a in (y_true, baseline_pred, candidate_pred)]
    n = lengths[0]
    if n == 0:
        raise InputError("no examples to compare")
    if lengths[1] != n or lengths[2] != n:
        raise InputError(f"lengths differ: y_true {n}, baseline {lengths[1]}, candidate {lengths[2]}")
    if spec.task == REGRESSION:
        test = _REGRESSION_TESTS[metric]
        result = test(
            _numbers(y_true, "y_true"),
            _numbers(baseline_pred, "baseline predictions"),
            _numbers(candidate_pred, "candidate predictions"),
            tolerance=tolerance,
            alpha=alpha,
        )
        return _decision(metric, spec, result, n, tolerance, alpha)
    names, (truth, base, cand) = _encode(
        [np.asarray(y_true), np.asarray(baseline_pred), np.asarray(candidate_pred)], classes
    )

    if metric == "accuracy":
        result = accuracy_test(base == truth, cand == truth, tolerance=tolerance, alpha=alpha)
    elif metric == "macro_f1":
        result = macro_f1_test(truth, base, cand, len(names), tolerance=tolerance, alpha=alpha)
    else:
        if baseline_score is None or candidate_score is None:
            raise InputError(f"{metric} needs baseline and candidate scores (probabilities)")
        score_b = _scores_matrix(baseline_score, n, len(names), "baseline scores")
        score_c = _scores_matrix(candidate_score, n, len(names), "candidate scores")
        true_index = truth
        if metric == "log_loss":
            rows = np.arange(n)
            result = log_loss_test(
                score_b[rows, true_index], score_c[rows, true_index], tolerance=tolerance, alpha=alpha
            )
        else:
            try:
                if len(names) == 2:
                    result = roc_auc_test(
                        true_index == 1, score_b[:, 1], score_c[:, 1], tolerance=tolerance, alpha=alpha
                    )
                else:  # macro one-vs-rest, as scikit-learn's multi_class="ovr", average="macro"
                    counts = np.bincount(true_index, minlength=len(names))
                    if (counts == 0).any():
                        raise InputError(
                            "roc_auc (one-vs-rest) needs every class in the evaluation set; "
                            f"class {names[int(np.argmin(counts))]!r} has no example"
                        )
                    result = macro_roc_auc_test(
                        true_index, score_b, score_c, tolerance=tolerance, alpha=alpha
                    )
            except ValueError as exc:
                raise InputError(str(exc)) from None
    return _decision(metric, spec, result, n, tolerance, alpha)


def _decision(
    metric: str, spec: MetricSpec, result: PairedTest, n: int, tolerance: float, alpha: float
) -> Decision:
    return Decision(
        metric=metric,
        regressed=result.p_value < alpha,
        delta=result.delta,
        p_value=result.p_value,
        ci=result.ci,
        mde=result.mde,
        baseline=result.baseline,
        candidate=result.candidate,
        n=n,
        tolerance=tolerance,
        alpha=alpha,
        higher_is_better=spec.higher_is_better,
        method=result.method,
    )
