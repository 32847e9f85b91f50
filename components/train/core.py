"""Pure core of `train`: build an estimator by name, fit it, compose the served model."""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from components.shared.errors import InputError
from components.shared.plain import plain
from components.shared.tasks import CLASSIFICATION, REGRESSION


@dataclass(frozen=True)
class EstimatorSpec:
    """Where an estimator class lives, and defaults that differ from scikit-learn's."""

    module: str
    cls: str
    defaults: tuple[tuple[str, Any], ...] = ()


#: Estimators by name and task. Only the chosen one's module is imported (import time counts per task).
ESTIMATORS: dict[str, dict[str, EstimatorSpec]] = {
    "logistic_regression": {
        CLASSIFICATION: EstimatorSpec("sklearn.linear_model", "LogisticRegression", (("max_iter", 1000),))
    },
    "linear_regression": {REGRESSION: EstimatorSpec("sklearn.linear_model", "LinearRegression")},
    "ridge": {REGRESSION: EstimatorSpec("sklearn.linear_model", "Ridge")},
    "random_forest": {
        CLASSIFICATION: EstimatorSpec("sklearn.ensemble", "RandomForestClassifier", (("n_estimators", 200),)),
        REGRESSION: EstimatorSpec("sklearn.ensemble", "RandomForestRegressor", (("n_estimators", 200),)),
    },
    "gradient_boosting": {
        CLASSIFICATION: EstimatorSpec("sklearn.ensemble", "HistGradientBoostingClassifier"),
        REGRESSION: EstimatorSpec("sklearn.ensemble", "HistGradientBoostingRegressor"),
    },
}
#: ``estimator=auto`` (the pipeline's default): the task's default estimator.
AUTO_ESTIMATOR = "auto"
DEFAULT_ESTIMATORS = {CLASSIFICATION: "logistic_regression", REGRESSION: "ridge"}
DEFAULT_ESTIMATOR = AUTO_ESTIMATOR
#: Modules whose estimators may be named by import path when nothing else is declared
#: (the declaration is ``[tool.kfops.estimators] modules`` in pyproject.toml, which the
#: compiled pipeline carries as the train task's fixed ``allowed_estimators`` input).
DEFAULT_ALLOWED_MODULES = ("sklearn",)
_IMPORT_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def parse_allowed(text: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Allowed module prefixes from ``"sklearn,xgboost"`` (or a sequence)."""
    items = text.split(",") if isinstance(text, str) else list(text)
    return tuple(m.strip() for m in items if m.strip())


def is_import_path(name: str) -> bool:
    """Whether ``name`` is a ``module.Class`` import path rather than a built-in name."""
    return "." in name


def check_estimator_name(name: str, allowed: tuple[str, ...] = DEFAULT_ALLOWED_MODULES) -> str:
    """Validate an estimator name or import path without importing anything.

    A parameter that imports code is code execution, so an import path must lie in a
    module of the allow-list (``sklearn`` allows ``sklearn.svm.SVC``) before it is imported.

    Raises:
        InputError: Unknown name, malformed path, or a module outside the allow-list.
    """
    name = name.strip()
    if not is_import_path(name):
        if name != AUTO_ESTIMATOR and name not in ESTIMATORS:
            raise InputError(
                f"unknown estimator {name!r}; valid estimators: auto, {', '.join(ESTIMATORS)}, "
                "or an import path such as sklearn.svm.SVC"
            )
        return name
    if not _IMPORT_PATH.match(name):
        raise InputError(f"estimator {name!r} is not an import path like sklearn.svm.SVC")
    module = name.rsplit(".", 1)[0]
    if not any(module == m or module.startswith(m + ".") for m in allowed):
        raise InputError(
            f"estimator {name!r} is not allowed: import paths must lie in {', '.join(allowed) or 'nothing'} "
            "([tool.kfops.estimators] modules in pyproject.toml)"
        )
    return name


def _kind(estimator: BaseEstimator) -> str:
    from sklearn.utils import get_tags

    try:
        return str(get_tags(estimator).estimator_type or "")
    except (TypeError, AttributeError, ValueError):
        return ""


def resolve_estimator(
    name: str, task: str, allowed: tuple[str, ...] = DEFAULT_ALLOWED_MODULES
) -> tuple[str, BaseEstimator, tuple[tuple[str, Any], ...]]:
    """The estimator for ``name`` and ``task``: ``(name used, unfitted instance, defaults)``.

    Raises:
        InputError: Unknown or disallowed estimator, or one that does not fit the task
            (a classifier for a regression target, or the reverse).
    """
    name = check_estimator_name(name, allowed)
    if name == AUTO_ESTIMATOR:
        name = DEFAULT_ESTIMATORS[task]
    if not is_import_path(name):
        specs = ESTIMATORS[name]
        if task not in specs:
            other = ", ".join(n for n, s in ESTIMATORS.items() if task in s)
            raise InputError(
                f"estimator {name} is a {next(iter(specs))} estimator but the label is a {task} "
                f"target; use one of {other} (or set task=...)"
            )
        spec = specs[task]
        estimator_cls = getattr(importlib.import_module(spec.module), spec.cls)
        return name, estimator_cls(), spec.defaults
    module, cls_name = name.rsplit(".", 1)
    try:
        estimator_cls = getattr(importlib.import_module(module), cls_name)
    except ImportError as exc:
        raise InputError(f"estimator {name!r}: cannot import {module} ({exc.msg})") from None
    except AttributeError:
        raise InputError(f"estimator {name!r}: {module} has no {cls_name}") from None
    if not (isinstance(estimator_cls, type) and issubclass(estimator_cls, BaseEstimator)):
        raise InputError(f"estimator {name!r} is not a scikit-learn estimator class")
    try:
        estimator = estimator_cls()
    except TypeError as exc:
        raise InputError(f"estimator {name!r} cannot be created without arguments: {exc}") from None
    kind = _kind(estimator)
    wanted = "classifier" if task == CLASSIFICATION else "regressor"
    if kind != wanted:
        raise InputError(
            f"estimator {name} is {'a ' + kind if kind else 'not a classifier or regressor'}, "
            f"but the label is a {task} target (a {wanted} is needed)"
        )
    return name, estimator, ()


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


def build_estimator(
    name: str,
    hyperparameters: dict[str, Any],
    seed: int,
    task: str = CLASSIFICATION,
    allowed: tuple[str, ...] = DEFAULT_ALLOWED_MODULES,
) -> tuple[str, BaseEstimator]:
    """Create an unfitted estimator.

    Args:
        name: ``auto``, a key of `ESTIMATORS`, or an allowed import path (``sklearn.svm.SVC``).
        hyperparameters: Constructor arguments; unknown names are rejected.
        seed: Used as ``random_state`` when the estimator has one and none is given.
        task: ``classification`` or ``regression``.
        allowed: Module prefixes import paths may name.

    Returns:
        The name used (``auto`` resolved) and the estimator.

    Raises:
        InputError: Unknown, disallowed or task-mismatched estimator, or an unknown hyperparameter.
    """
    name, estimator, defaults = resolve_estimator(name, task, allowed)
    valid = estimator.get_params(deep=False)
    unknown = sorted(set(hyperparameters) - set(valid))
    if unknown:
        raise InputError(
            f"unknown hyperparameter {unknown[0]!r} for {name}; valid: {', '.join(sorted(valid))}"
        )
    params = dict(defaults)
    if "random_state" in valid:
        params["random_state"] = seed
    params.update(hyperparameters)
    return name, estimator.set_params(**params)


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
    task: str = CLASSIFICATION,
    allowed: tuple[str, ...] = DEFAULT_ALLOWED_MODULES,
) -> TrainedModel:
    """Fit the estimator on prepared features and compose the served model.

    Args:
        prepared: Transformed training features plus ``label`` (from `preprocess`).
        label: Label column.
        transformer: The fitted preprocessing, put in front of the estimator.
        estimator_name: ``auto``, a key of `ESTIMATORS` or an allowed import path.
        hyperparameters: Estimator constructor arguments.
        seed: Random seed.
        task: ``classification`` or ``regression`` (decided by `ingest`).
        allowed: Module prefixes import paths may name.

    Returns:
        The model, made of scikit-learn classes only (KServe's sklearn server loads it).

    Raises:
        InputError: Bad estimator or hyperparameters, a classifier for a regression
            target (or the reverse), a single class, or data the estimator cannot take
            (e.g. missing values without an impute step).
    """
    import sklearn
    from sklearn.utils import get_tags

    name, estimator = build_estimator(estimator_name, hyperparameters, seed, task, allowed)
    y = prepared[label].to_numpy()
    x = prepared.drop(columns=[label]).to_numpy(dtype="float64")
    if task == REGRESSION:
        y = y.astype("float64")
        if len(np.unique(y)) < 2:
            raise InputError(f"training target is constant ({plain(y[0])})")
    else:
        classes = np.unique(y)
        if len(classes) < 2:
            raise InputError(f"training data has a single class ({plain(classes[0])})")
    calibrated = task == CLASSIFICATION and not hasattr(estimator, "predict_proba")
    if calibrated:
        # e.g. SVC: kfops scores classifiers by class probabilities, so they are calibrated
        # (scikit-learn's own replacement for SVC(probability=True)).
        from sklearn.calibration import CalibratedClassifierCV

        estimator = CalibratedClassifierCV(estimator, ensemble=False)
    if np.isnan(x).any() and not get_tags(estimator).input_tags.allow_nan:
        raise InputError(
            "training features have missing values; add an impute step "
            "(impute_median or impute_mean) or an estimator that takes them (gradient_boosting, "
            f"random_forest); {name} does not"
        )
    try:
        estimator.fit(x, y)
    except ValueError as exc:  # scikit-learn's parameter validation errors are ValueErrors
        raise InputError(f"cannot train {name}: {' '.join(str(exc).split())}") from None
    model = Pipeline([("preprocess", transformer), ("estimator", estimator)])
    metadata = {
        "task": task,
        "estimator": name,
        "estimator_class": _class_path(estimator.estimator if calibrated else estimator),  # type: ignore[attr-defined]
        "probabilities": "calibrated (CalibratedClassifierCV, sigmoid, 5-fold)" if calibrated else "its own",
        "hyperparameters": hyperparameters,
        "seed": seed,
        "classes": [str(c) for c in getattr(estimator, "classes_", [])] if task == CLASSIFICATION else [],
        "train_rows": len(prepared),
        "sklearn_version": sklearn.__version__,
        "python_version": _python_version(),
    }
    return TrainedModel(model, metadata)


def _class_path(estimator: Any) -> str:
    return f"{type(estimator).__module__}.{type(estimator).__name__}"


def _python_version() -> str:
    import platform

    return platform.python_version()
