"""Regression metrics (RMSE, MAE, R²): paired tests on per-example errors."""

from __future__ import annotations

import math

import numpy as np

from components.shared.gate_stats.paired import PairedTest, normal_test


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
    if spread <= 0:  # a constant target: R² is 0 for every model (as evaluate reports it)
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
