"""Log loss: a paired normal interval on per-example log-loss differences."""

from __future__ import annotations

import math

import numpy as np

from components.shared.gate_stats.paired import PairedTest, normal_test


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
