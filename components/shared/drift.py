"""Label-free input drift: a reference profile of the training data and the PSI against it.

The population stability index of one feature is ``sum((a - e) * ln(a / e))`` over
bins, with ``e`` the training proportions and ``a`` the window's. Numeric features
use the training deciles as bin edges (open-ended outer bins, so any value lands
somewhere); categorical features use their training categories plus one bin for
everything unseen. Rules of thumb: < 0.1 stable, 0.1-0.25 moderate, > 0.25 shifted.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

BINS = 10
EPSILON = 1e-4  # keeps empty bins finite in the logarithm
MAX_CATEGORIES = 50
OTHER = "__other__"


def reference_profile(frame: pd.DataFrame, numeric: list[str], categorical: list[str]) -> dict[str, Any]:
    """The training distribution of each feature, small enough for model metadata.

    Args:
        frame: Training rows.
        numeric: Numeric feature columns.
        categorical: Categorical feature columns.

    Returns:
        ``{feature: {"kind": "numeric", "edges": [...], "expected": [...]}}`` or
        ``{"kind": "categorical", "categories": [...], "expected": [...]}``.
    """
    profile: dict[str, Any] = {}
    for column in numeric:
        values = pd.to_numeric(frame[column], errors="coerce").dropna().to_numpy(dtype="float64")
        if values.size == 0:
            continue
        inner = np.unique(np.quantile(values, np.linspace(0, 1, BINS + 1)[1:-1]))
        profile[column] = {
            "kind": "numeric",
            "edges": [float(e) for e in inner],
            "expected": _numeric_shares(values, inner),
        }
    for column in categorical:
        counts = frame[column].astype("string").fillna(OTHER).value_counts()
        categories = [str(c) for c in counts.index[:MAX_CATEGORIES]]
        profile[column] = {
            "kind": "categorical",
            "categories": categories,
            "expected": _categorical_shares(frame[column], categories),
        }
    return profile


def _numeric_shares(values: np.ndarray, inner_edges: np.ndarray) -> list[float]:
    counts = np.bincount(np.searchsorted(inner_edges, values, side="right"), minlength=len(inner_edges) + 1)
    return [float(c) for c in counts / max(values.size, 1)]


def _categorical_shares(column: pd.Series, categories: list[str]) -> list[float]:
    values = column.astype("string").fillna(OTHER)
    known = values.where(values.isin(categories), OTHER)
    counts = known.value_counts()
    total = max(len(values), 1)
    return [float(counts.get(c, 0)) / total for c in [*categories, OTHER]]


def psi(expected: list[float], actual: list[float]) -> float:
    """Population stability index of two binned distributions (same bins)."""
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, EPSILON), max(a, EPSILON)
        total += (a - e) * math.log(a / e)
    return total


def population_stability(profile: dict[str, Any], frame: pd.DataFrame) -> dict[str, float]:
    """PSI of every profiled feature present in ``frame`` (features it lacks are skipped)."""
    result: dict[str, float] = {}
    for column, entry in profile.items():
        if column not in frame.columns:
            continue
        if entry["kind"] == "numeric":
            values = pd.to_numeric(frame[column], errors="coerce").dropna().to_numpy(dtype="float64")
            actual = _numeric_shares(values, np.asarray(entry["edges"], dtype="float64"))
            expected = list(entry["expected"])
        else:
            categories = list(entry["categories"])
            actual = _categorical_shares(frame[column], categories)
            expected = list(entry["expected"])
        result[column] = round(psi(expected, actual), 6)
    return result
