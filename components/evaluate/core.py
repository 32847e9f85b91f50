"""Pure core of `evaluate`: metrics and the per-example evaluation record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from components.shared.errors import InputError

#: Columns of an evaluation record (plus one ``score_<class>`` column per class).
ID, Y_TRUE, Y_PRED, SCORE_PREFIX = "id", "y_true", "y_pred", "score_"


@dataclass
class Evaluation:
    """The result of evaluating a model on a test set.

    Attributes:
        metrics: ``accuracy``, ``macro_f1``, ``log_loss`` and, for binary labels, ``roc_auc``.
        classes: Class labels (as strings) in the model's order.
        confusion: Confusion matrix, rows = true class, columns = predicted class.
        record: One row per test example: ``id``, ``y_true``, ``y_pred``, ``score_<class>``.
    """

    metrics: dict[str, float]
    classes: list[str]
    confusion: list[list[int]]
    record: pd.DataFrame = field(repr=False)


def evaluate_model(model: Any, test: pd.DataFrame, features: list[str], label: str) -> Evaluation:
    """Score ``model`` on ``test``.

    Args:
        model: A fitted classifier with ``predict_proba`` and ``classes_`` (the saved Pipeline).
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
    classes = [str(c) for c in model_classes]
    confusion = confusion_matrix(y_true, y_pred, labels=model_classes).tolist()
    record = pd.DataFrame({ID: np.arange(len(test)), Y_TRUE: y_true, Y_PRED: y_pred})
    for i, name in enumerate(classes):
        record[f"{SCORE_PREFIX}{name}"] = proba[:, i]
    return Evaluation(metrics, classes, confusion, record)
