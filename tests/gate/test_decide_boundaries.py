"""The gate's decision at its boundaries: a p-value equal to alpha, and ROC-AUC on one class."""

from __future__ import annotations

import numpy as np
import pytest

from components.shared.errors import InputError
from components.shared.gate_stats.decide import decide


def test_a_p_value_equal_to_alpha_is_not_a_regression() -> None:
    """One example the baseline gets right and the candidate wrong: the exact mid-p McNemar
    p-value is P(B > 1) + P(B = 1) / 2 = 1/4 for B ~ Binomial(1, 1/2). At alpha = 1/4 the data
    do not show the drop *below* the level, so the gate passes (it fails only when p < alpha)."""
    y = ["a", "b", "a", "b"]
    candidate = ["b", "b", "a", "b"]  # one example more wrong, none less
    at_level = decide(y, y, candidate, metric="accuracy", alpha=0.25)
    assert at_level.p_value == 0.25 and not at_level.regressed
    assert decide(y, y, candidate, metric="accuracy", alpha=0.2500001).regressed


def test_roc_auc_on_an_evaluation_set_of_one_class_is_refused_as_one_class() -> None:
    y = ["a"] * 6
    scores = np.ones((6, 1))
    with pytest.raises(InputError, match=r"needs every class in the evaluation set \(only one class\)"):
        decide(y, y, y, metric="roc_auc", baseline_score=scores, candidate_score=scores)
