"""The gate's metrics: which exist, for which task, which way is better, and valid settings.

No numbers are computed here (stdlib only), so configuration readers (``kfops gate``'s
``[tool.kfops.gate]``, the champion's rules) check names and settings without loading
the statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from components.shared.tasks import CLASSIFICATION, REGRESSION


@dataclass(frozen=True)
class MetricSpec:
    """How a metric is compared, and for which task."""

    higher_is_better: bool
    needs_scores: bool
    task: str = CLASSIFICATION


METRICS: dict[str, MetricSpec] = {
    "accuracy": MetricSpec(higher_is_better=True, needs_scores=False),
    "macro_f1": MetricSpec(higher_is_better=True, needs_scores=False),
    "roc_auc": MetricSpec(higher_is_better=True, needs_scores=True),
    "log_loss": MetricSpec(higher_is_better=False, needs_scores=True),
    "rmse": MetricSpec(higher_is_better=False, needs_scores=False, task=REGRESSION),
    "mae": MetricSpec(higher_is_better=False, needs_scores=False, task=REGRESSION),
    "r2": MetricSpec(higher_is_better=True, needs_scores=False, task=REGRESSION),
}


def metrics_for(task: str) -> tuple[str, ...]:
    """The metrics that apply to a task's models."""
    return tuple(name for name, spec in METRICS.items() if spec.task == task)


#: Metrics bounded to [0, 1]: a tolerance of 1 or more could never be exceeded.
BOUNDED_METRICS = ("accuracy", "macro_f1", "roc_auc")


def tolerance_problem(metric: str, tolerance: object) -> str | None:
    """Why ``tolerance`` is no usable absolute tolerance for ``metric`` (``None`` when it is).

    Bounded metrics (accuracy, F1, AUC) take ``0 <= tolerance < 1``; log loss and
    error-like metrics any finite ``tolerance >= 0``.
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float):
        return f"must be a number, got {tolerance!r}"
    if not math.isfinite(tolerance):
        return f"must be finite, got {tolerance}"
    if metric in BOUNDED_METRICS and not 0 <= tolerance < 1:
        return f"must be >= 0 and < 1 for {metric} (absolute, like the metric), got {tolerance}"
    if tolerance < 0:
        return f"must be >= 0, got {tolerance}"
    return None


def alpha_problem(alpha: object) -> str | None:
    """Why ``alpha`` is no usable test level (``None`` when it is in (0, 0.5))."""
    if isinstance(alpha, bool) or not isinstance(alpha, int | float):
        return f"must be a number, got {alpha!r}"
    if not 0 < alpha < 0.5:  # also false for NaN
        return f"must be in (0, 0.5), got {alpha}"
    return None
