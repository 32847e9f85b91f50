"""Classification or regression: the one rule that tells them apart, used by every step.

A label is a **regression** target under ``task=auto`` when it is numeric (not
boolean) and has more than `MAX_AUTO_CLASSES` distinct values; otherwise it is a
classification label. So the diabetes progression score (214 distinct values)
is regressed, and digits (10), breast cancer (2) or text labels are classified.
A classification task with more classes than that is asked for with
``task=classification``; a label with a non-integer number (``151.5``) is never
a class (`check_task` refuses it), whatever ``task`` says.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from components.shared.errors import InputError

CLASSIFICATION, REGRESSION, AUTO = "classification", "regression", "auto"
TASKS = (CLASSIFICATION, REGRESSION)
#: ``task=auto``: a numeric label with more distinct values than this is a regression target.
MAX_AUTO_CLASSES = 20


def _numeric(values: np.ndarray) -> bool:
    return values.dtype.kind in "iuf"


def _fractional(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)] if values.dtype.kind == "f" else values
    return bool(values.dtype.kind == "f" and len(finite) and (finite != np.round(finite)).any())


def infer_task(labels: Any) -> str:
    """The task ``auto`` chooses for these labels (see the module docstring)."""
    values = np.asarray(labels)
    if values.dtype == object:  # e.g. a column of Python numbers read as objects
        try:
            values = values.astype("float64")
        except (TypeError, ValueError):
            return CLASSIFICATION
    if not _numeric(values):
        return CLASSIFICATION
    return REGRESSION if len(np.unique(values)) > MAX_AUTO_CLASSES else CLASSIFICATION


def check_task(requested: str, labels: Any, label: str = "label") -> str:
    """Resolve ``requested`` (``auto``, ``classification`` or ``regression``) for ``labels``.

    Raises:
        InputError: An unknown task, classification of a continuous (non-integer)
            label, or regression of a non-numeric label.
    """
    requested = (requested or AUTO).strip().lower()
    if requested not in (AUTO, *TASKS):
        raise InputError(f"unknown task {requested!r}; use auto, classification or regression")
    values = np.asarray(labels)
    task = infer_task(values) if requested == AUTO else requested
    if task == REGRESSION and not _numeric(values):
        try:
            values = values.astype("float64")
        except (TypeError, ValueError):
            raise InputError(f"task regression needs a numeric label; {label!r} holds text") from None
    if task == CLASSIFICATION and _numeric(values) and _fractional(values):
        raise InputError(
            f"label {label!r} is continuous ({len(np.unique(values))} distinct values, e.g. "
            f"{_example_fraction(values)}): it cannot be a class; use task=regression (or task=auto)"
        )
    return task


def _example_fraction(values: np.ndarray) -> str:
    finite = values[np.isfinite(values)]
    return f"{float(finite[finite != np.round(finite)][0]):g}"


def task_of(facts: dict[str, Any]) -> str:
    """The task recorded in metadata (records written before regression existed are classification)."""
    task = str(facts.get("task") or CLASSIFICATION)
    return task if task in TASKS else CLASSIFICATION
