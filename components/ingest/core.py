"""Pure core of `ingest`: validate a raw table into a typed dataset and its schema."""

from __future__ import annotations

import numpy as np
import pandas as pd

from components.shared.errors import InputError
from components.shared.fingerprint import fingerprint_frame
from components.shared.plain import plain
from components.shared.schema import DatasetSchema
from components.shared.tasks import REGRESSION, check_task

_MAX_LISTED = 12


def parse_columns(spec: str) -> tuple[str, ...]:
    """Parse a comma-separated column list (``"a, b"`` -> ``("a", "b")``)."""
    return tuple(c.strip() for c in spec.split(",") if c.strip())


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    return shown + (f", ... ({len(names)} in all)" if len(names) > _MAX_LISTED else "")


def validate_dataset(
    frame: pd.DataFrame, label: str, categorical: tuple[str, ...] = (), task: str = "auto"
) -> tuple[pd.DataFrame, DatasetSchema]:
    """Validate a raw table and return it typed, with its schema.

    Numeric features become ``float64`` (missing values stay ``NaN``); declared
    categorical features become strings (missing values stay missing).

    Args:
        frame: The raw table, as read from the source.
        label: Name of the label column.
        categorical: Feature columns to treat as categorical.
        task: ``auto``, ``classification`` or ``regression`` (the rule: `components.shared.tasks`).

    Returns:
        The typed table (label last) and its `DatasetSchema`.

    Raises:
        InputError: The table is empty, lacks the label, has no features, has a
            non-numeric undeclared feature, an all-missing or constant feature,
            missing labels, a single class (a constant target), an unknown task, a
            continuous label asked to be classified or a text label asked to be regressed.
    """
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    unnamed = [i for i, c in enumerate(columns) if not c.strip()]
    if unnamed:
        raise InputError(f"column {unnamed[0] + 1} has no name in the header; name every column")
    if len(frame) == 0:
        raise InputError("dataset has no rows")
    if len(set(columns)) != len(columns):
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        raise InputError(f"duplicate column names: {_listing(dupes)}")
    if label not in columns:
        raise InputError(f"label column {label!r} not found; columns are: {_listing(columns)}")
    features = [c for c in columns if c != label]
    if not features:
        raise InputError(f"dataset has no feature columns besides the label {label!r}")
    unknown = [c for c in categorical if c not in features]
    if unknown:
        raise InputError(f"declared categorical columns not among the features: {_listing(unknown)}")

    labels = frame[label]
    if labels.isna().any():
        raise InputError(f"label column {label!r} has {int(labels.isna().sum())} missing values")
    if labels.nunique() < 2:
        raise InputError(f"label column {label!r} has a single class ({plain(labels.iloc[0])})")
    resolved = check_task(task, labels.to_numpy(), label)
    if resolved == REGRESSION:
        labels = labels.astype("float64")

    typed: dict[str, pd.Series] = {}
    for name in features:
        column = frame[name]
        if name in categorical:
            typed[name] = column.astype("string").astype(object).where(column.notna(), None)
        else:
            typed[name] = _numeric(name, column)
        values = typed[name]
        if values.isna().all():
            raise InputError(f"feature {name!r} has no values (every row is missing)")
    typed[label] = labels
    result = pd.DataFrame(typed)
    schema = DatasetSchema(
        label=label,
        features=tuple(features),
        categorical=tuple(c for c in features if c in categorical),
        classes=() if resolved == REGRESSION else tuple(sorted(str(v) for v in labels.unique())),
        rows=len(result),
        fingerprint=fingerprint_frame(result),
        task=resolved,
    )
    return result, schema


def _numeric(name: str, column: pd.Series) -> pd.Series:
    values = _as_float(name, column)
    infinite = np.isinf(values.to_numpy())
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise InputError(
            f"feature {name!r} has an infinite value in row {row + 1} ({int(infinite.sum())} in all); "
            "use a finite number or leave the cell empty"
        )
    return values


def _as_float(name: str, column: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return column.astype("float64")
    converted = pd.to_numeric(column, errors="coerce")
    bad = converted.isna() & column.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"feature {name!r} is not numeric (value {plain(column.iloc[row])} in row {row + 1}); "
            "declare it categorical or fix the source"
        )
    return converted.astype("float64")


#: Largest synthetic table (rows x features), about 8 GB of float64.
MAX_SYNTHETIC_CELLS = 1_000_000_000


def synthetic_dataset(rows: int, features: int = 20, seed: int = 0) -> pd.DataFrame:
    """Generate a binary classification table for large-scale runs.

    The label follows a noisy logistic model of the features, so a linear model
    learns it well but not perfectly (accuracy around 0.9).

    Args:
        rows: Number of rows (at least 10).
        features: Number of numeric features (at least 1).
        seed: Random seed; the same arguments give the same table.

    Returns:
        A table with columns ``x00..`` and ``target`` (0/1).
    """
    if rows < 10:
        raise InputError(f"--rows must be at least 10, got {rows}")
    if features < 1:
        raise InputError(f"--features must be at least 1, got {features}")
    if rows > MAX_SYNTHETIC_CELLS // features or features > 10_000:
        raise InputError(f"--rows x --features must stay below {MAX_SYNTHETIC_CELLS:,} cells")
    if seed < 0:
        raise InputError(f"--seed must be >= 0, got {seed}")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, features))
    weights = rng.normal(0.0, 1.0, features)
    logits = x @ weights / np.sqrt(features) * 4.0
    target = (logits + rng.logistic(size=rows) > 0).astype("int64")
    frame = pd.DataFrame(x, columns=[f"x{i:02d}" for i in range(features)])
    frame["target"] = target
    return frame
