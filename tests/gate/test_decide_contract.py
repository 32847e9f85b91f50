"""The contract of gate_stats.decide beyond its statistics: inputs it refuses, labels, records."""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable

import numpy as np
import pytest

from components.shared.errors import InputError
from components.shared.gate_stats.accuracy import accuracy_test
from components.shared.gate_stats.decide import Decision, decide
from components.shared.gate_stats.log_loss import log_loss_test
from components.shared.gate_stats.macro_f1 import macro_f1_test
from components.shared.gate_stats.paired import normal_test
from components.shared.gate_stats.regression import mae_test, r2_test, rmse_test
from components.shared.gate_stats.roc_auc import macro_roc_auc_test, roc_auc_test


def _decision(delta: float, higher_is_better: bool, mde: float = 0.01) -> Decision:
    return Decision(
        metric="m",
        regressed=False,
        delta=delta,
        p_value=0.5,
        ci=(delta - 0.1, delta + 0.1),
        mde=mde,
        baseline=0.5,
        candidate=0.5 + delta,
        n=10,
        tolerance=0.0,
        alpha=0.05,
        higher_is_better=higher_is_better,
        method="t",
    )


@pytest.mark.parametrize(
    ("delta", "higher_is_better", "worse"),
    [
        (-0.1, True, True),
        (0.1, True, False),
        (0.0, True, False),
        (0.1, False, True),
        (-0.1, False, False),
        (0.0, False, False),
    ],
)
def test_observed_worse_follows_the_metrics_direction(
    delta: float, higher_is_better: bool, worse: bool
) -> None:
    assert _decision(delta, higher_is_better).observed_worse is worse


def test_a_decision_is_a_fact_and_its_record_is_json() -> None:
    decision = _decision(-0.1, True, mde=math.nan)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.delta = 0.0  # type: ignore[misc]
    assert decision.to_dict()["mde"] is None and decision.to_dict()["ci"] == [-0.2, 0.0]
    assert _decision(-0.1, True, mde=0.25).to_dict()["mde"] == 0.25


@pytest.mark.parametrize(("base", "cand"), [(9, 10), (11, 10), (10, 9), (10, 11)])
def test_lengths_that_differ_either_way_are_named(base: int, cand: int) -> None:
    with pytest.raises(InputError, match=rf"^lengths differ: y_true 10, baseline {base}, candidate {cand}$"):
        decide([0, 1] * 5, [0] * base, [0] * cand)


def test_the_first_unknown_label_is_named() -> None:
    with pytest.raises(InputError, match=r"^label 'x' is not among the classes \['a', 'b'\]$"):
        decide(["a", "b"], ["y", "x"], ["a", "b"], classes=["a", "b"])


def test_a_missing_prediction_is_wrong_not_the_last_class() -> None:
    truth = np.array(["a", "b"] * 50, dtype=object)
    candidate = truth.copy()
    candidate[1:20:2] = None  # ten "b" answers missing
    decision = decide(truth, truth, candidate, classes=None)
    assert decision.candidate == pytest.approx(0.9)


@pytest.mark.parametrize("which", ["baseline", "candidate"])
def test_score_metrics_need_both_models_scores(which: str) -> None:
    scores = {"baseline_score": [0.2, 0.8] * 10, "candidate_score": [0.2, 0.8] * 10}
    scores[f"{which}_score"] = None
    with pytest.raises(InputError, match="needs baseline and candidate scores"):
        decide([0, 1] * 10, [0, 1] * 10, [0, 1] * 10, metric="roc_auc", **scores)


def test_one_score_per_example_is_only_for_two_classes() -> None:
    with pytest.raises(InputError, match="only works for binary labels"):
        decide([0], [0], [0], metric="roc_auc", baseline_score=[0.5], candidate_score=[0.5], classes=[0])


def test_two_classes_take_the_binary_delong_test() -> None:
    # Same numbers as the macro one-vs-rest test for two classes; the report names the method.
    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.4).astype(int)
    base = np.clip(0.4 + 0.3 * (y - 0.5) + rng.normal(0, 0.2, 200), 0.001, 0.999)
    decision = decide(y, y, y, metric="roc_auc", baseline_score=base, candidate_score=base)
    assert decision.method == "DeLong test for correlated ROC-AUCs"


def test_the_log_loss_test_uses_the_paired_differences_standard_error() -> None:
    from statistics import NormalDist

    from components.shared.gate_stats.log_loss import log_loss_test

    base = np.array([0.9, 0.8, 0.6, 0.7, 0.95])
    cand = np.array([0.85, 0.7, 0.65, 0.5, 0.9])
    result = log_loss_test(base, cand, tolerance=0.0, alpha=0.05)
    diff = -np.log(cand) + np.log(base)
    se = diff.std(ddof=1) / np.sqrt(len(diff))
    z = NormalDist().inv_cdf(0.95)
    assert result.baseline == pytest.approx(-np.log(base).mean())
    assert result.candidate == pytest.approx(-np.log(cand).mean())
    assert result.delta == pytest.approx(diff.mean())  # candidate - baseline: up is worse
    assert result.ci == pytest.approx((diff.mean() - z * se, diff.mean() + z * se))


def test_the_log_loss_test_clips_probabilities_to_0_1_and_one_example_has_no_spread() -> None:
    from components.shared.gate_stats.log_loss import log_loss_test

    result = log_loss_test(np.array([1.2]), np.array([0.0]), tolerance=0.0, alpha=0.05)
    assert result.baseline == 0.0  # clipped to 1: no loss
    assert result.candidate == pytest.approx(-np.log(np.finfo(np.float64).eps))
    assert result.ci == (result.delta, result.delta)  # one example: standard error 0, not NaN


@pytest.mark.parametrize(
    ("test", "named"),
    [
        (decide, ["metric", "baseline_score", "candidate_score", "tolerance", "alpha", "classes"]),
        (normal_test, ["higher_is_better", "tolerance", "alpha", "method"]),
        (accuracy_test, ["tolerance", "alpha"]),
        (log_loss_test, ["tolerance", "alpha"]),
        (macro_f1_test, ["tolerance", "alpha", "draws"]),
        (rmse_test, ["tolerance", "alpha"]),
        (mae_test, ["tolerance", "alpha"]),
        (r2_test, ["tolerance", "alpha"]),
        (roc_auc_test, ["tolerance", "alpha"]),
        (macro_roc_auc_test, ["tolerance", "alpha"]),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_tolerance_and_alpha_are_passed_by_name_only(test: Callable[..., object], named: list[str]) -> None:
    """Two floats side by side are easy to swap: they are keyword-only, and the data before
    them stay positional-or-keyword (callers may name them)."""
    parameters = inspect.signature(test).parameters.values()
    assert [p.name for p in parameters if p.kind is p.KEYWORD_ONLY] == named
    assert all(p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)
