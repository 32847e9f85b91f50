"""The gate's log loss is the run record's (scikit-learn's), also with a probability of exactly 0."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import log_loss

from components.shared.gate_stats.decide import decide


def test_the_gates_log_loss_equals_scikit_learns_with_a_zero_probability() -> None:
    y_true = np.array([0, 1, 1, 0, 1, 0, 1, 1])
    p1 = np.array([0.1, 0.9, 0.0, 0.2, 1.0, 0.3, 0.7, 0.6])  # a random forest gives exact 0s and 1s
    scores = np.c_[1 - p1, p1]
    decision = decide(
        y_true,
        (p1 >= 0.5).astype(int),
        (p1 >= 0.5).astype(int),
        metric="log_loss",
        baseline_score=scores,
        candidate_score=scores,
        classes=["0", "1"],
    )
    assert decision.baseline == decision.candidate == log_loss(y_true, scores)
