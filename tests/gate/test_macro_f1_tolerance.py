"""Macro-F1's bootstrap p-value counts draws "not worse by more than the tolerance"."""

from __future__ import annotations

import numpy as np

from components.shared.gate_stats.macro_f1 import macro_f1_test


def test_identical_predictions_are_within_any_tolerance_in_every_draw() -> None:
    """Every draw's difference is 0, which is >= -tolerance: p = (1 + draws) / (draws + 1) = 1.
    (Against +tolerance no draw would count, and p would be 1 / (draws + 1).)"""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 90)
    pred = np.where(rng.random(90) < 0.7, y, rng.integers(0, 3, 90))
    result = macro_f1_test(y, pred, pred.copy(), 3, tolerance=0.05, alpha=0.05, draws=50)
    assert result.p_value == 1.0 and result.delta == 0.0
