"""Pure core of `evaluate`: metrics and the per-example evaluation record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from components.shared.errors import InputError
from components.shared.tasks import CLASSIFICATION, REGRESSION

#: Columns of an evaluation record (plus one ``score_<class>`` column per class).
ID, Y_TRUE, Y_PRED, SCORE_PREFIX = "id", "y_true", "y_pred", "score_"


@dataclass
class Evaluation:
    """The result of evaluating a model on a test set.

    Attributes:
        metrics: Classification: ``accuracy``, ``macro_f1``, ``log_loss`` and, for binary
            labels, ``roc_auc``. Regression: ``rmse``, ``mae`` and ``r2``.
        classes: Class labels (as strings) in the model's order (empty for regression).
        confusion: Confusion matrix, rows = true class, columns = predicted class (empty for regression).
        record: One row per test example: ``id``, ``y_true``, ``y_pred`` and, for a
            classifier, ``score_<class>``.
        task: ``classification`` or ``regression``.
    """

    metrics: dict[str, float]
    classes: list[str]
    confusion: list[list[int]]
    record: pd.DataFrame = field(repr=False)
    task: str = CLASSIFICATION


def model_task(model: Any) -> str:
    """``regression`` for a fitted regressor (no ``classes_``), else ``classification``."""
    return CLASSIFICATION if hasattr(model, "classes_") else REGRESSION


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """``rmse``, ``mae`` and ``r2`` (R² is NaN-free: 0 when the target is constant)."""
    error = np.asarray(y_pred, dtype="float64") - np.asarray(y_true, dtype="float64")
    spread = float(((y_true - np.mean(y_true)) ** 2).sum())
    sse = float((error**2).sum())
    return {
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mae": float(np.mean(np.abs(error))),
        "r2": 1.0 - sse / spread if spread > 0 else 0.0,
    }


def evaluate_model(model: Any, test: pd.DataFrame, features: list[str], label: str) -> Evaluation:
    """Score ``model`` on ``test``.

    Args:
        model: The saved Pipeline: a classifier (``predict_proba``, ``classes_``) or a regressor.
        test: Test rows (raw features and label) exactly as written by `split`.
        features: Feature columns, in the order the model was trained on.
        label: Label column.

    Returns:
        The `Evaluation`.

    Raises:
        InputError: The test set lacks a feature or the label.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss, roc_auc_score

    missing = [c for c in [*features, label] if c not in test.columns]
    if missing:
        raise InputError(f"test set lacks column {missing[0]!r}")
    if len(test) == 0:
        raise InputError("test set has no rows")
    x, y_true = test[features], test[label].to_numpy()
    if model_task(model) == REGRESSION:
        try:
            y_true = y_true.astype("float64")
        except (TypeError, ValueError):
            raise InputError(f"label {label!r} is not numeric; the model is a regressor") from None
        y_pred = np.asarray(model.predict(x), dtype="float64")
        record = pd.DataFrame({ID: np.arange(len(test)), Y_TRUE: y_true, Y_PRED: y_pred})
        return Evaluation(regression_metrics(y_true, y_pred), [], [], record, REGRESSION)
    proba = np.asarray(model.predict_proba(x), dtype="float64")
    model_classes = np.asarray(model.classes_)
    y_pred = model_classes[proba.argmax(axis=1)]
    metrics = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "log_loss": float(log_loss(y_true, proba, labels=model_classes)),
    }
    if len(model_classes) == 2 and len(np.unique(y_true)) == 2:
        metrics["roc_auc"] = float(roc_auc_score(y_true == model_classes[1], proba[:, 1]))
    elif len(model_classes) > 2 and set(np.unique(y_true)) == set(model_classes):
        # macro one-vs-rest, as the gate computes it (every class needs examples)
        metrics["roc_auc"] = float(
            roc_auc_score(y_true, proba, multi_class="ovr", average="macro", labels=model_classes)
        )
    classes = [str(c) for c in model_classes]
    confusion = confusion_matrix(y_true, y_pred, labels=model_classes).tolist()
    record = pd.DataFrame({ID: np.arange(len(test)), Y_TRUE: y_true, Y_PRED: y_pred})
    for i, name in enumerate(classes):
        record[f"{SCORE_PREFIX}{name}"] = proba[:, i]
    return Evaluation(metrics, classes, confusion, record)
