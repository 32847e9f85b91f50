"""ROC-AUC: DeLong's test for two correlated AUCs, binary and macro one-vs-rest."""

from __future__ import annotations

import math

import numpy as np

from components.shared.gate_stats.paired import PairedTest, normal_test


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
