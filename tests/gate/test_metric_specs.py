"""The gate's metric table and the limits of its settings (components/shared/gate_stats/metrics.py)."""

from __future__ import annotations

import dataclasses

import pytest

from components.shared.gate_stats.metrics import METRICS, alpha_problem, metrics_for, tolerance_problem


def test_each_metric_knows_its_task_direction_and_whether_it_needs_scores() -> None:
    table = {name: (s.task, s.higher_is_better, s.needs_scores) for name, s in METRICS.items()}
    assert table == {
        "accuracy": ("classification", True, False),
        "macro_f1": ("classification", True, False),
        "roc_auc": ("classification", True, True),
        "log_loss": ("classification", False, True),
        "rmse": ("regression", False, False),
        "mae": ("regression", False, False),
        "r2": ("regression", True, False),
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        METRICS["accuracy"].higher_is_better = False  # type: ignore[misc]


def test_metrics_for_a_task_are_exactly_that_tasks() -> None:
    assert metrics_for("classification") == ("accuracy", "macro_f1", "roc_auc", "log_loss")
    assert metrics_for("regression") == ("rmse", "mae", "r2")
    assert metrics_for("ranking") == ()


@pytest.mark.parametrize(
    ("metric", "tolerance", "problem"),
    [
        ("accuracy", 0, None),
        ("accuracy", 0.999, None),
        ("accuracy", 1, "must be >= 0 and < 1 for accuracy"),
        ("accuracy", 1.5, "must be >= 0 and < 1 for accuracy"),
        ("roc_auc", 1.0, "must be >= 0 and < 1 for roc_auc"),
        ("macro_f1", -0.001, "must be >= 0 and < 1 for macro_f1"),
        ("log_loss", 0, None),
        ("log_loss", 5, None),  # unbounded: any finite tolerance >= 0
        ("rmse", 1.5, None),
        ("log_loss", -0.001, "must be >= 0, got -0.001"),
        ("mae", -1, "must be >= 0, got -1"),
        ("accuracy", True, "must be a number, got True"),
        ("rmse", "0.1", "must be a number, got '0.1'"),
        ("rmse", None, "must be a number, got None"),
        ("log_loss", float("inf"), "must be finite"),
        ("accuracy", float("nan"), "must be finite"),
    ],
)
def test_tolerance_limits(metric: str, tolerance: object, problem: str | None) -> None:
    found = tolerance_problem(metric, tolerance)
    assert found == problem if problem is None else (found is not None and found.startswith(problem))


@pytest.mark.parametrize(
    ("alpha", "ok"),
    [
        (1e-9, True),
        (0.05, True),
        (0.4999, True),
        (0, False),
        (0.5, False),
        (-0.1, False),
        (0.7, False),
        (float("nan"), False),
        (True, False),
        ("0.05", False),
        (None, False),
    ],
)
def test_alpha_is_a_number_strictly_between_0_and_one_half(alpha: object, ok: bool) -> None:
    problem = alpha_problem(alpha)
    assert (problem is None) == ok
    if not ok:
        assert problem is not None and problem.startswith(("must be in (0, 0.5)", "must be a number"))
