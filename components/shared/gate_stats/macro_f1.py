"""Macro-F1: a multinomial bootstrap over the joint confusion cells of two models."""

from __future__ import annotations

import math

import numpy as np

from components.shared.gate_stats.paired import (
    BOOTSTRAP_DRAWS,
    BOOTSTRAP_SEED,
    NORMAL,
    POWER,
    PairedTest,
    z_upper,
)


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
    mde = tolerance + (z_upper(alpha) + NORMAL.inv_cdf(POWER)) * sd if sd > 0 else math.nan
    return PairedTest(
        base,
        cand,
        cand - base,
        p,
        (low, high),
        mde,
        f"multinomial bootstrap over joint confusion cells ({draws} draws)",
    )
