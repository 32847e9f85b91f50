"""Loading prediction sets (evaluation records, CSV or Parquet) and checking they match."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from components.evaluate.core import ID, SCORE_PREFIX, Y_PRED, Y_TRUE
from components.shared.errors import InputError, KfopsError
from components.shared.sources import source_name
from components.shared.store import read_uri
from components.shared.tables import read_parquet, read_table_bytes
from components.shared.tasks import infer_task, task_of


@dataclass
class Predictions:
    """One model's predictions on an evaluation set.

    Attributes:
        source: Where they were read from.
        y_true: True labels.
        y_pred: Predicted labels.
        scores: ``(n, K)`` class probabilities in ``classes`` order, or ``None``.
        classes: Class labels of the score columns.
        fingerprint: Test-set fingerprint, if the record carries one.
        facts: The evaluation record's metadata (empty for plain files).
        task: ``classification`` or ``regression``: the record's, or for a plain file the
            ``task=auto`` rule applied to ``y_true`` (`components.shared.tasks`).
    """

    source: str
    y_true: np.ndarray
    y_pred: np.ndarray
    scores: np.ndarray | None
    classes: list[str]
    fingerprint: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    ids: np.ndarray | None = None
    task: str = "classification"

    @property
    def n(self) -> int:
        """Number of examples."""
        return len(self.y_true)


def load_predictions(uri: str) -> Predictions:
    """Read an evaluation record (Parquet from `evaluate`) or a CSV/Parquet file.

    Required columns: ``y_true``, ``y_pred``. Optional: ``id`` (rows are sorted by
    it) and ``score_<class>`` columns (class probabilities).

    Raises:
        InputError: Unreadable file, missing columns, duplicate ids.
    """
    try:
        if source_name(uri).lower().endswith((".parquet", ".pq")):
            frame, facts = read_parquet(uri)
        else:
            frame, facts = read_table_bytes(read_uri(uri), source_name(uri)), {}
    except KfopsError as exc:
        raise InputError(f"cannot read predictions {uri}: {exc}") from None
    missing = [c for c in (Y_TRUE, Y_PRED) if c not in frame.columns]
    if missing:
        raise InputError(f"{uri} has no {missing[0]!r} column (needs y_true and y_pred)")
    if len(frame) == 0:
        raise InputError(f"{uri} has no rows")
    for column in (Y_TRUE, Y_PRED):
        missing_rows = frame[column].isna()
        if missing_rows.any():
            raise InputError(
                f"{uri}: {column} has {int(missing_rows.sum())} missing value(s) "
                f"(first in row {int(missing_rows.to_numpy().argmax())})"
            )
    if ID in frame.columns:
        frame = _sorted_by_id(frame, uri)
    score_columns = [c for c in frame.columns if str(c).startswith(SCORE_PREFIX)]
    classes = [str(c)[len(SCORE_PREFIX) :] for c in score_columns]
    if facts.get("classes") and sorted(map(str, facts["classes"])) == sorted(classes):
        order = [str(c) for c in facts["classes"]]
        score_columns = [f"{SCORE_PREFIX}{c}" for c in order]
        classes = order
    try:
        scores = frame[score_columns].to_numpy(dtype=float) if score_columns else None
    except (TypeError, ValueError):
        raise InputError(f"{uri}: score columns must be numbers") from None
    if scores is not None and not (np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()):
        raise InputError(
            f"{uri}: score columns must be probabilities in [0, 1] (found missing or out-of-range values)"
        )
    return Predictions(
        source=uri,
        y_true=frame[Y_TRUE].to_numpy(),
        y_pred=frame[Y_PRED].to_numpy(),
        scores=scores,
        classes=classes,
        fingerprint=facts.get("test_fingerprint"),
        facts=facts,
        ids=frame[ID].to_numpy() if ID in frame.columns else None,
        task=task_of(facts) if facts.get("task") else infer_task(frame[Y_TRUE].to_numpy()),
    )


def _sorted_by_id(frame: pd.DataFrame, uri: str) -> pd.DataFrame:
    """Rows in ``id`` order, refusing duplicate ids.

    Ids are unique, so any sort gives the same order; one ``argsort`` of the id
    column finds both the order and (as equal neighbours) any duplicate, and a file
    already in id order is not copied at all.
    """
    ids = frame[ID].to_numpy()
    if ids.dtype.kind not in "iu":  # text, mixed or float (NaN) ids: pandas orders and hashes them
        if frame[ID].duplicated().any():
            raise InputError(f"{uri}: id {frame[ID][frame[ID].duplicated()].iloc[0]} appears twice")
        return frame.sort_values(ID, kind="stable").reset_index(drop=True)
    already_sorted = bool((ids[1:] >= ids[:-1]).all())
    order = None if already_sorted else np.argsort(ids)
    ordered = ids if order is None else ids[order]
    repeated = ordered[1:] == ordered[:-1]
    if repeated.any():
        raise InputError(f"{uri}: id {ordered[1:][repeated][0]} appears twice")
    return frame if order is None else frame.take(order).reset_index(drop=True)


def comparable(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two label arrays made comparable element-wise (as text only when their types differ)."""
    if left.dtype == right.dtype and left.dtype != object:
        return left, right
    return pd.Series(left).astype(str).to_numpy(), pd.Series(right).astype(str).to_numpy()


def check_same_examples(baseline: Predictions, candidate: Predictions) -> None:
    """Refuse to compare predictions made on different evaluation sets.

    Raises:
        InputError: Different fingerprints, sizes or true labels, naming the first difference.
    """
    if baseline.fingerprint and candidate.fingerprint and baseline.fingerprint != candidate.fingerprint:
        raise InputError(
            "evaluation sets differ: test-set fingerprint "
            f"{baseline.fingerprint[:19]}... (baseline) != {candidate.fingerprint[:19]}... (candidate)"
        )
    if baseline.n != candidate.n:
        raise InputError(
            f"evaluation sets differ: {baseline.n} examples (baseline) vs {candidate.n} (candidate)"
        )
    if baseline.ids is not None and candidate.ids is not None:
        base_ids, cand_ids = comparable(baseline.ids, candidate.ids)
        if (base_ids != cand_ids).any():
            row = int(np.argmax(base_ids != cand_ids))
            raise InputError(
                f"evaluation sets differ: example ids '{base_ids[row]}' (baseline) and "
                f"'{cand_ids[row]}' (candidate) at position {row}"
            )
    base_true, cand_true = comparable(baseline.y_true, candidate.y_true)
    differs = base_true != cand_true
    if differs.any():
        row = int(np.argmax(differs))
        raise InputError(
            f"evaluation sets differ: example {row} has y_true '{base_true[row]}' in the baseline "
            f"and '{cand_true[row]}' in the candidate"
        )
