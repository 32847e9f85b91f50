"""Pure core of `train`: build an estimator by name, fit it, compose the served model."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from components.shared.errors import InputError
from components.shared.plain import plain


@dataclass(frozen=True)
class EstimatorSpec:
    """Where an estimator class lives, and defaults that differ from scikit-learn's."""

    module: str
    cls: str
    defaults: tuple[tuple[str, Any], ...] = ()


#: Estimators by name. Only the chosen one's module is imported (import time counts per task).
ESTIMATORS: dict[str, EstimatorSpec] = {
    "logistic_regression": EstimatorSpec("sklearn.linear_model", "LogisticRegression", (("max_iter", 1000),)),
    "random_forest": EstimatorSpec("sklearn.ensemble", "RandomForestClassifier", (("n_estimators", 200),)),
    "gradient_boosting": EstimatorSpec("sklearn.ensemble", "HistGradientBoostingClassifier"),
}
DEFAULT_ESTIMATOR = "logistic_regression"


def parse_hyperparameters(text: str) -> dict[str, Any]:
    """Parse hyperparameters given as a JSON object (empty string: none).

    Raises:
        InputError: The text is not a JSON object.
    """
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"hyperparameters are not valid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(value, dict):
        raise InputError(f"hyperparameters must be a JSON object, got {type(value).__name__}")
    return value


def build_estimator(name: str, hyperparameters: dict[str, Any], seed: int) -> BaseEstimator:
    """Create an unfitted estimator.

    Args:
        name: A key of `ESTIMATORS`.
        hyperparameters: Constructor arguments; unknown names are rejected.
        seed: Used as ``random_state`` when the estimator has one and none is given.

    Raises:
        InputError: Unknown estimator or hyperparameter name.
    """
    spec = ESTIMATORS.get(name)
    if spec is None:
        raise InputError(f"unknown estimator {name!r}; valid estimators: {', '.join(ESTIMATORS)}")
    estimator_cls = getattr(importlib.import_module(spec.module), spec.cls)
    estimator: BaseEstimator = estimator_cls()
    valid = estimator.get_params(deep=False)
    unknown = sorted(set(hyperparameters) - set(valid))
    if unknown:
        raise InputError(
            f"unknown hyperparameter {unknown[0]!r} for {name}; valid: {', '.join(sorted(valid))}"
        )
    params = dict(spec.defaults)
    if "random_state" in valid:
        params["random_state"] = seed
    params.update(hyperparameters)
    return estimator.set_params(**params)


@dataclass
class TrainedModel:
    """A fitted model and the facts recorded with it.

    Attributes:
        model: ``Pipeline([("preprocess", transformer), ("estimator", estimator)])``.
        metadata: JSON-ready facts (estimator, hyperparameters, versions, classes).
    """

    model: Pipeline
    metadata: dict[str, Any]


def train_model(
    prepared: pd.DataFrame,
    label: str,
    transformer: ColumnTransformer,
    estimator_name: str,
    hyperparameters: dict[str, Any],
    seed: int,
) -> TrainedModel:
    """Fit the estimator on prepared features and compose the served model.

    Args:
        prepared: Transformed training features plus ``label`` (from `preprocess`).
        label: Label column.
        transformer: The fitted preprocessing, put in front of the estimator.
        estimator_name: A key of `ESTIMATORS`.
        hyperparameters: Estimator constructor arguments.
        seed: Random seed.

    Returns:
        The model, made of scikit-learn classes only (KServe's sklearn server loads it).

    Raises:
        InputError: Bad estimator or hyperparameters, a single class, or data the
            estimator cannot take (e.g. missing values without an impute step).
    """
    import sklearn

    estimator = build_estimator(estimator_name, hyperparameters, seed)
    y = prepared[label].to_numpy()
    x = prepared.drop(columns=[label]).to_numpy(dtype="float64")
    classes = np.unique(y)
    if len(classes) < 2:
        raise InputError(f"training data has a single class ({plain(classes[0])})")
    if np.isnan(x).any() and estimator_name != "gradient_boosting":
        raise InputError(
            "training features have missing values; add an impute step "
            "(impute_median or impute_mean) or use gradient_boosting"
        )
    try:
        estimator.fit(x, y)
    except ValueError as exc:  # scikit-learn's parameter validation errors are ValueErrors
        raise InputError(f"cannot train {estimator_name}: {' '.join(str(exc).split())}") from None
    model = Pipeline([("preprocess", transformer), ("estimator", estimator)])
    assert isinstance(estimator, ClassifierMixin)
    metadata = {
        "estimator": estimator_name,
        "estimator_class": f"{type(estimator).__module__}.{type(estimator).__name__}",
        "hyperparameters": hyperparameters,
        "seed": seed,
        "classes": [str(c) for c in estimator.classes_],  # type: ignore[attr-defined]
        "train_rows": len(prepared),
        "sklearn_version": sklearn.__version__,
        "python_version": _python_version(),
    }
    return TrainedModel(model, metadata)


def _python_version() -> str:
    import platform

    return platform.python_version()
