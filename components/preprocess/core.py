"""Pure core of `preprocess`: named, re-orderable steps fitted on the training set.

Two kinds of step:

* row steps (``drop_duplicates``, ``drop_missing``) filter training rows. They
  are never part of the fitted transform, so inference never drops a row;
* transform steps (dropping constant columns, imputation, clipping, scaling) act on
  the numeric features and are fitted in the order given, each on the output of the
  steps before it. ``drop_constant`` drops numeric features that are constant in the
  training rows (e.g. the always-blank border pixels of scikit-learn's digits).

Categorical features are always imputed (``"missing"``) and one-hot encoded.
The result is one fitted scikit-learn ``ColumnTransformer`` made of
scikit-learn classes only, so the saved model unpickles wherever scikit-learn
is installed (e.g. KServe's sklearn server), and inference applies exactly the
fitted transform.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.feature_selection import VarianceThreshold
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    OneHotEncoder,
    RobustScaler,
    StandardScaler,
)
from sklearn.utils import check_array

from components.shared.errors import InputError
from components.shared.schema import DatasetSchema

#: The default step list of the training pipeline.
DEFAULT_STEPS = "drop_duplicates,drop_constant,impute_median,clip_outliers,standard_scale"

#: Quantiles used by ``clip_outliers``.
CLIP_QUANTILES = (0.01, 0.99)


def _clipper(x: np.ndarray) -> FunctionTransformer:
    low, high = np.nanquantile(x, CLIP_QUANTILES, axis=0)
    return FunctionTransformer(np.clip, kw_args={"a_min": low, "a_max": high}, feature_names_out="one-to-one")


@dataclass(frozen=True)
class Step:
    """A named preprocessing step."""

    description: str
    #: Row steps: rows of the working table to keep.
    keep_rows: Callable[[pd.DataFrame], np.ndarray] | None = None
    #: Transform steps: build an unfitted transformer (may look at the data, e.g. clip bounds).
    make: Callable[[np.ndarray], BaseEstimator] | None = None


STEPS: dict[str, Step] = {
    "drop_duplicates": Step(
        "drop duplicate training rows (training only)",
        keep_rows=lambda frame: ~frame.duplicated().to_numpy(),
    ),
    "drop_missing": Step(
        "drop training rows with a missing feature (training only)",
        keep_rows=lambda frame: frame.notna().all(axis=1).to_numpy(),
    ),
    "drop_constant": Step(
        "drop numeric features constant in the training rows (missing values ignored)",
        make=lambda x: VarianceThreshold(threshold=0.0),
    ),
    "impute_median": Step(
        "fill missing numeric values with the median", make=lambda x: SimpleImputer(strategy="median")
    ),
    "impute_mean": Step(
        "fill missing numeric values with the mean", make=lambda x: SimpleImputer(strategy="mean")
    ),
    "clip_outliers": Step("clip numeric values to their 1st-99th percentile", make=_clipper),
    "standard_scale": Step(
        "scale numeric values to zero mean and unit variance", make=lambda x: StandardScaler()
    ),
    "minmax_scale": Step("scale numeric values to [0, 1]", make=lambda x: MinMaxScaler()),
    "robust_scale": Step("scale numeric values by median and IQR", make=lambda x: RobustScaler()),
}


def parse_steps(spec: str) -> tuple[str, ...]:
    """Parse and check a comma-separated step list (order kept; empty means none).

    Raises:
        InputError: An unknown or repeated step name (the message lists valid names).
    """
    steps = tuple(s.strip() for s in spec.split(",") if s.strip())
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise InputError(f"unknown preprocessing step {unknown[0]!r}; valid steps: {', '.join(STEPS)}")
    repeated = sorted({s for s in steps if steps.count(s) > 1})
    if repeated:
        raise InputError(f"preprocessing step {repeated[0]!r} is listed more than once")
    return steps


@dataclass
class Preprocessing:
    """A fitted preprocessing: the transform, the filtered training rows and a summary.

    Attributes:
        transformer: Fitted ``ColumnTransformer`` taking the schema's feature columns in order.
        train: The training rows kept by the row steps (raw, untransformed).
        prepared: ``transformer`` applied to ``train``: float features plus the label.
        summary: JSON-ready fitted parameters per step, for people to read.
    """

    transformer: ColumnTransformer
    train: pd.DataFrame
    prepared: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def fit_preprocessing(train: pd.DataFrame, schema: DatasetSchema, steps: tuple[str, ...]) -> Preprocessing:
    """Fit the steps, in order, on the training set.

    Args:
        train: Training rows (features and label) as written by `split`.
        schema: The dataset schema.
        steps: Step names, as returned by `parse_steps`.

    Returns:
        The fitted `Preprocessing`.

    Raises:
        InputError: The row steps leave no training rows or a single class.
    """
    numeric, categorical = list(schema.numeric), list(schema.categorical)
    work = train.reset_index(drop=True)
    x = work[numeric].to_numpy(dtype="float64", copy=True)
    columns = list(numeric)  # the numeric columns still in ``x`` (drop_constant removes some)
    fitted: list[tuple[str, BaseEstimator]] = []
    summary: dict[str, Any] = {"steps": list(steps), "numeric": numeric, "categorical": categorical}
    for name in steps:
        step = STEPS[name]
        if step.keep_rows is not None:
            current = work.assign(**{c: x[:, i] for i, c in enumerate(numeric)})
            keep = step.keep_rows(current)
            summary[name] = {"rows_dropped": int((~keep).sum())}
            work, x = work.loc[keep].reset_index(drop=True), x[keep]
        else:
            assert step.make is not None
            if x.shape[1] == 0:  # every numeric feature was dropped: nothing left to transform
                summary[name] = {}
                continue
            if name == "drop_constant" and not _varying(x).any():
                raise InputError(
                    f"every numeric feature is constant in the training rows ({', '.join(columns)}); "
                    "nothing to learn from"
                )
            transformer = step.make(x)
            x = np.asarray(transformer.fit_transform(x), dtype="float64")  # a plain array: see _plain
            fitted.append((name, transformer))
            summary[name] = _fitted_parameters(transformer, columns)
            if isinstance(transformer, VarianceThreshold):
                kept = transformer.get_support()
                summary[name] = {"dropped": [c for c, k in zip(columns, kept, strict=True) if not k]}
                columns = [c for c, k in zip(columns, kept, strict=True) if k]
    if len(work) == 0:
        raise InputError("preprocessing dropped every training row")
    if work[schema.label].nunique() < 2:
        raise InputError("after preprocessing the training rows have a single class")

    parts: list[tuple[str, Any, list[int]]] = []
    positions = {c: i for i, c in enumerate(schema.features)}
    if numeric:
        as_floats = _plain("as_floats", check_array, {"dtype": "float64", "ensure_all_finite": "allow-nan"})
        numeric_part: Any = FrozenEstimator(Pipeline([as_floats, *fitted])) if fitted else "passthrough"
        parts.append(("numeric", numeric_part, [positions[c] for c in numeric]))
    if categorical:
        encoder = Pipeline(
            [
                _plain("as_objects", np.asarray, {"dtype": object}),
                ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
                ("one_hot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
            ]
        ).fit(work[categorical].to_numpy(dtype=object))
        summary["one_hot"] = {
            c: [str(v) for v in cats]
            for c, cats in zip(categorical, encoder.named_steps["one_hot"].categories_, strict=True)
        }
        parts.append(("categorical", FrozenEstimator(encoder), [positions[c] for c in categorical]))
    # Columns are selected by position so the model accepts both DataFrames and the
    # plain arrays KServe's v1 protocol sends.
    transformer = ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)
    features = work[list(schema.features)]
    transformer.fit(features)
    matrix = np.asarray(transformer.transform(features), dtype="float64")
    prepared = pd.DataFrame(matrix, columns=[f"f{i:04d}" for i in range(matrix.shape[1])])
    prepared[schema.label] = work[schema.label].to_numpy()
    summary["rows_in"], summary["rows_out"] = len(train), len(work)
    return Preprocessing(transformer, work, prepared, summary)


def _plain(
    name: str, convert: Callable[..., Any], options: dict[str, Any]
) -> tuple[str, FunctionTransformer]:
    """A first step that makes whatever the model is called with a plain array.

    The model is called with DataFrames (evaluate, batch predict) and with the plain arrays of
    KServe's v1 protocol (numbers, or strings for rows that mix them with categories). The steps
    after this one are fitted on a plain array and always see one, so none warns on every call
    that it was fitted with (or without) column names. ``convert`` is numpy's or scikit-learn's,
    so a model server with scikit-learn alone can load the model; ``validate=False`` keeps this
    step from checking names itself.
    """
    return (name, FunctionTransformer(convert, kw_args=options, validate=False))


def _varying(x: np.ndarray) -> np.ndarray:
    """Per column: whether it holds two different non-missing values."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
        if len(x) == 0:
            return np.zeros(x.shape[1], dtype=bool)
        return np.asarray(np.nanmax(x, axis=0) > np.nanmin(x, axis=0))


def _fitted_parameters(transformer: BaseEstimator, columns: list[str]) -> dict[str, Any]:
    """The fitted numbers of a step, per column (for the JSON summary)."""

    def per_column(values: Any) -> dict[str, float]:
        return {c: float(v) for c, v in zip(columns, np.asarray(values, dtype="float64"), strict=True)}

    if isinstance(transformer, SimpleImputer):
        return {"fill": per_column(transformer.statistics_)}
    if isinstance(transformer, StandardScaler):
        return {"mean": per_column(transformer.mean_), "scale": per_column(transformer.scale_)}
    if isinstance(transformer, MinMaxScaler):
        return {"min": per_column(transformer.data_min_), "max": per_column(transformer.data_max_)}
    if isinstance(transformer, RobustScaler):
        return {"center": per_column(transformer.center_), "scale": per_column(transformer.scale_)}
    if isinstance(transformer, FunctionTransformer):
        kw = transformer.kw_args or {}
        return {"low": per_column(kw["a_min"]), "high": per_column(kw["a_max"])}
    return {}
