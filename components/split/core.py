"""Pure core of `split`: seeded, optionally stratified train/test split (numpy only)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from components.shared.errors import InputError
from components.shared.fingerprint import fingerprint_frame
from components.shared.plain import plain


@dataclass(frozen=True)
class SplitInfo:
    """Facts about a split, recorded for lineage and for the performance gate.

    Attributes:
        seed: Random seed used.
        test_size: Fraction of rows in the test set.
        stratified: Whether class proportions were preserved.
        train_rows: Rows in the training set.
        test_rows: Rows in the test set.
        test_fingerprint: ``sha256:`` fingerprint of the test set (the frozen evaluation set).
    """

    seed: int
    test_size: float
    stratified: bool
    train_rows: int
    test_rows: int
    test_fingerprint: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def split_frame(
    frame: pd.DataFrame,
    label: str,
    *,
    test_size: float = 0.25,
    seed: int = 42,
    stratify: bool = True,
    regression: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, SplitInfo]:
    """Split a table into train and test sets, deterministically.

    Rows keep their original relative order within each set, so the same input,
    seed and settings always give byte-identical sets.

    Args:
        frame: The validated dataset.
        label: Label column (used for stratification and the class check).
        test_size: Fraction of rows for the test set, strictly between 0 and 1.
        seed: Random seed.
        stratify: Keep each class's proportion in both sets (ignored for a regression
            target, which has no classes: the split is then a plain random one, recorded as such).
        regression: The label is a regression target.

    Returns:
        ``(train, test, info)``.

    Raises:
        InputError: Bad ``test_size``, an empty set, or a training set with one class.
    """
    if not 0.0 < test_size < 1.0:
        raise InputError(f"test_size must be between 0 and 1 (exclusive), got {test_size}")
    if label not in frame.columns:
        raise InputError(f"label column {label!r} not in dataset")
    rng = np.random.default_rng(seed)
    n = len(frame)
    in_test = np.zeros(n, dtype=bool)
    stratify = stratify and not regression
    if stratify:
        codes, _ = pd.factorize(frame[label], sort=True)
        for code in range(codes.max() + 1):
            members = np.flatnonzero(codes == code)
            take = round(len(members) * test_size)
            if len(members) >= 2:
                take = min(max(take, 1), len(members) - 1)
            in_test[rng.permutation(members)[:take]] = True
    else:
        in_test[rng.permutation(n)[: round(n * test_size)]] = True
    train = frame.loc[~in_test].reset_index(drop=True)
    test = frame.loc[in_test].reset_index(drop=True)
    if len(train) == 0 or len(test) == 0:
        raise InputError(
            f"split of {n} rows with test_size={test_size} leaves an empty "
            f"{'training' if len(train) == 0 else 'test'} set"
        )
    classes = train[label].unique()
    if len(classes) < 2 and regression:
        raise InputError(f"the training split's target is constant ({classes[0]!r}); use more data")
    if len(classes) < 2:
        raise InputError(
            f"the training split has a single class ({plain(classes[0])}); "
            "use more data, stratify, or another seed"
        )
    info = SplitInfo(seed, test_size, stratify, len(train), len(test), fingerprint_frame(test))
    return train, test, info
