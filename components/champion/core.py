"""Pure core of `champion`: does a new model beat the champion on the same examples?

The candidate becomes champion only when the performance gate's paired test,
on the candidate's own evaluation set with the champion re-scored on it, finds no
regression on any gated metric (the same statistics as ``kfops gate``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from components.evaluate.core import ID, SCORE_PREFIX, Y_PRED, Y_TRUE
from components.shared.errors import InputError
from components.shared.gate_stats.decide import Decision, decide
from components.shared.gate_stats.metrics import METRICS, alpha_problem, tolerance_problem
from components.shared.tasks import CLASSIFICATION, REGRESSION

#: The gate's default rules (``[tool.kfops.gate]`` in pyproject.toml): accuracy (classifiers)
#: and RMSE (regressors) may not regress at all at the 5% level. A test keeps the two in step.
DEFAULT_RULES = (
    {"metric": "accuracy", "tolerance": 0.0, "alpha": 0.05},
    {"metric": "rmse", "tolerance": 0.0, "alpha": 0.05},
)


@dataclass(frozen=True)
class Rule:
    """One gated metric: ``metric`` may not drop by more than ``tolerance`` at level ``alpha``."""

    metric: str
    tolerance: float
    alpha: float


@dataclass(frozen=True)
class Challenge:
    """The outcome of a candidate against the champion.

    Attributes:
        promote: Whether the candidate becomes champion.
        reason: Why, in one line.
        decisions: The gate's decision per rule (empty when there was no champion).
        verdict: ``promoted``, ``kept`` (a regression), ``not comparable``, ``not promoted``
            (it would have been, but the run was not asked to promote) or ``already champion``.
    """

    promote: bool
    reason: str
    decisions: tuple[Decision, ...] = ()
    verdict: str = ""

    def __post_init__(self) -> None:
        if not self.verdict:
            object.__setattr__(self, "verdict", "promoted" if self.promote else "kept")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "promote": self.promote,
            "verdict": self.verdict,
            "reason": self.reason,
            "decisions": [d.to_dict() for d in self.decisions],
        }


def parse_rules(text: str) -> tuple[Rule, ...]:
    """Rules from JSON (``[{"metric", "tolerance", "alpha"}, ...]``); empty text: `DEFAULT_RULES`.

    Raises:
        InputError: Not a non-empty list of rules, an unknown metric, or a bad number.
    """
    try:
        raw = json.loads(text) if text.strip() else list(DEFAULT_RULES)
    except json.JSONDecodeError as exc:
        raise InputError(f"champion rules are not JSON: {exc}") from None
    if not isinstance(raw, list) or not raw:
        raise InputError("champion rules must be a non-empty JSON list")
    rules = []
    for entry in raw:
        if not isinstance(entry, dict) or entry.get("metric") not in METRICS:
            raise InputError(f"champion rule {entry!r} needs a metric, one of {', '.join(METRICS)}")
        unknown = sorted(set(entry) - {"metric", "tolerance", "alpha"})
        if unknown:
            raise InputError(f"champion rule for {entry['metric']}: unknown key {unknown[0]!r}")
        tolerance, alpha = entry.get("tolerance", 0.0), entry.get("alpha", 0.05)
        problem = tolerance_problem(entry["metric"], tolerance)
        if problem:
            raise InputError(f"champion rule for {entry['metric']}: tolerance {problem}")
        problem = alpha_problem(alpha)
        if problem:
            raise InputError(f"champion rule for {entry['metric']}: alpha {problem}")
        rules.append(Rule(str(entry["metric"]), float(tolerance), float(alpha)))
    return tuple(rules)


def rules_for(rules: tuple[Rule, ...], task: str) -> tuple[Rule, ...]:
    """The rules that apply to a task's models; the task's default rules when none does.

    A rule list may hold both tasks' metrics (as ``[tool.kfops.gate]`` does): a regressor is
    judged by its regression rules and a classifier by its classification rules.
    """
    mine = tuple(r for r in rules if METRICS[r.metric].task == task)
    if mine:
        return mine
    return tuple(r for r in parse_rules("") if METRICS[r.metric].task == task)


def _scores(record: pd.DataFrame, classes: list[str]) -> np.ndarray:
    return record[[f"{SCORE_PREFIX}{c}" for c in classes]].to_numpy(dtype="float64")


def challenge(
    champion: pd.DataFrame,
    candidate: pd.DataFrame,
    champion_classes: list[str],
    candidate_classes: list[str],
    rules: tuple[Rule, ...],
    task: str = CLASSIFICATION,
) -> Challenge:
    """Compare two evaluation records of the same examples (the gate's paired tests).

    Args:
        champion: The champion's evaluation record on the candidate's test set.
        candidate: The candidate's evaluation record.
        champion_classes: Class labels of the champion's score columns.
        candidate_classes: Class labels of the candidate's score columns.
        rules: Gated metrics (those of other tasks are skipped, see `rules_for`).
        task: ``classification`` or ``regression`` (the candidate's).

    Returns:
        Promote unless some rule's metric regressed.

    Raises:
        InputError: The records cover different examples, or score-based rules meet
            models with different classes.
    """
    left = champion.sort_values(ID).reset_index(drop=True)
    right = candidate.sort_values(ID).reset_index(drop=True)
    if not left[ID].equals(right[ID]) or not left[Y_TRUE].astype(str).equals(right[Y_TRUE].astype(str)):
        raise InputError("champion and candidate were scored on different examples")
    decisions = []
    if task == REGRESSION:
        y_true = right[Y_TRUE].to_numpy(dtype="float64")
        base, cand = left[Y_PRED].to_numpy(dtype="float64"), right[Y_PRED].to_numpy(dtype="float64")
    else:
        y_true = right[Y_TRUE].astype(str).to_numpy()
        base, cand = left[Y_PRED].astype(str).to_numpy(), right[Y_PRED].astype(str).to_numpy()
    for rule in rules_for(rules, task):
        extra: dict[str, Any] = {}
        if METRICS[rule.metric].needs_scores:
            if champion_classes != candidate_classes:
                raise InputError(
                    f"cannot compare {rule.metric}: champion classes {champion_classes} "
                    f"!= candidate classes {candidate_classes}"
                )
            extra = {
                "baseline_score": _scores(left, champion_classes),
                "candidate_score": _scores(right, candidate_classes),
                "classes": candidate_classes,
            }
        decisions.append(
            decide(
                y_true,
                base,
                cand,
                metric=rule.metric,
                tolerance=rule.tolerance,
                alpha=rule.alpha,
                **extra,
            )
        )
    regressed = [d for d in decisions if d.regressed]
    if regressed:
        worst = regressed[0]
        reason = (
            f"{worst.metric} regressed: {worst.candidate:.4f} vs champion {worst.baseline:.4f} "
            f"(p={worst.p_value:.3g}, tolerance {worst.tolerance})"
        )
        return Challenge(False, reason, tuple(decisions))
    summary = ", ".join(f"{d.metric} {d.candidate:.4f} vs {d.baseline:.4f}" for d in decisions)
    return Challenge(True, f"no regression against the champion ({summary})", tuple(decisions))


def promotion_record(
    *,
    model_name: str,
    version: str,
    uri: str,
    metrics: dict[str, Any],
    previous: str | None,
    action: str,
    reason: str,
    actor: str,
    at: str,
    decisions: list[dict[str, Any]] | None = None,
    run_id: str = "",
    run_name: str = "",
) -> dict[str, Any]:
    """What is written when a version becomes champion (pointer and history entry alike).

    ``actor`` is who promoted; ``run_id``/``run_name`` the training run that made the version.
    """
    return {
        "run_id": run_id,
        "run_name": run_name,
        "model_name": model_name,
        "version": version,
        "uri": uri,
        "metrics": metrics,
        "previous": previous,
        "action": action,
        "reason": reason,
        "actor": actor,
        "promoted_at": at,
        "decisions": decisions or [],
    }
