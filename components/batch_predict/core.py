"""Pure core of `batch_predict`: score a batch with a stored model, nothing else."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from components.shared.errors import InputError
from components.shared.schema import model_inputs

ROW, PREDICTION, SCORE_PREFIX = "row", "prediction", "score_"
ID_COLUMN = "id"  # kept in the output when the input has it, to join predictions back


def predict_batch(model: Any, frame: pd.DataFrame, metadata: dict[str, Any]) -> pd.DataFrame:
    """Predict every row of ``frame`` with ``model`` (its saved preprocessing included).

    Args:
        model: The stored sklearn Pipeline (preprocessing + estimator).
        frame: Rows to score; columns beyond the model's features are ignored.
        metadata: The stored version's metadata (``features``, ``categorical``).

    Returns:
        ``row`` (0-based input position), ``id`` when the input has one,
        ``prediction`` and, for a classifier, one ``score_<class>`` column per class
        (a regressor's ``prediction`` is its number).

    Raises:
        InputError: No rows, or a missing or mistyped feature.
    """
    if len(frame) == 0:
        raise InputError("input batch has no rows")
    inputs = model_inputs(frame, list(metadata["features"]), list(metadata.get("categorical", [])))
    out = pd.DataFrame({ROW: np.arange(len(frame))})
    if ID_COLUMN in frame.columns:
        out[ID_COLUMN] = frame[ID_COLUMN].to_numpy()
    if not hasattr(model, "classes_"):  # a regressor
        out[PREDICTION] = np.asarray(model.predict(inputs), dtype="float64")
        return out
    proba = np.asarray(model.predict_proba(inputs), dtype="float64")
    classes = [str(c) for c in model.classes_]
    out[PREDICTION] = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    for index, name in enumerate(classes):
        out[f"{SCORE_PREFIX}{name}"] = proba[:, index]
    return out


def prediction_summary(predictions: pd.DataFrame) -> dict[str, float]:
    """How many rows got each predicted class; for a regressor the predictions' count,
    mean, min and max."""
    values = predictions[PREDICTION]
    if values.dtype.kind == "f":
        return {
            "count": len(values),
            "mean": float(values.mean()),
            "min": float(values.min()),
            "max": float(values.max()),
        }
    return {str(k): int(v) for k, v in predictions[PREDICTION].value_counts().sort_index().items()}
