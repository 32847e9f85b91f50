"""Tests of `split`: determinism, stratification, bounds, the class check and lineage facts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from components.ingest.io import run_ingest
from components.shared.errors import InputError
from components.shared.fingerprint import fingerprint_frame
from components.shared.tables import read_parquet
from components.split.core import split_frame
from components.split.io import run_split


def _table(counts: dict[str, int]) -> pd.DataFrame:
    """A table with a unique ``id``, a feature and ``counts[c]`` rows of each class ``c``."""
    labels = [c for c, n in counts.items() for _ in range(n)]
    rng = np.random.default_rng(0)
    order = rng.permutation(len(labels))  # interleave the classes
    return pd.DataFrame(
        {"id": np.arange(len(labels)), "x": rng.standard_normal(len(labels)), "y": [labels[i] for i in order]}
    )


def test_same_seed_gives_identical_splits() -> None:
    frame = _table({"a": 60, "b": 40})
    train1, test1, info1 = split_frame(frame, "y", seed=7)
    train2, test2, info2 = split_frame(frame.copy(), "y", seed=7)
    pd.testing.assert_frame_equal(train1, train2)
    pd.testing.assert_frame_equal(test1, test2)
    assert info1 == info2


@pytest.mark.parametrize("stratify", [True, False])
def test_different_seed_gives_different_split(stratify: bool) -> None:
    frame = _table({"a": 60, "b": 40})
    _, test1, info1 = split_frame(frame, "y", seed=1, stratify=stratify)
    _, test2, info2 = split_frame(frame, "y", seed=2, stratify=stratify)
    assert set(test1["id"]) != set(test2["id"])
    assert info1.test_fingerprint != info2.test_fingerprint


@pytest.mark.parametrize("seed", [0, 1, 42])
@pytest.mark.parametrize("test_size", [0.2, 0.25, 0.33])
def test_stratified_split_keeps_class_proportions_within_one_row(seed: int, test_size: float) -> None:
    counts = {"a": 71, "b": 23, "c": 9}
    frame = _table(counts)
    train, test, _ = split_frame(frame, "y", test_size=test_size, seed=seed, stratify=True)
    for cls, n in counts.items():
        in_test = int((test["y"] == cls).sum())
        in_train = int((train["y"] == cls).sum())
        assert in_test + in_train == n
        assert abs(in_test - n * test_size) <= 1, (cls, in_test, n * test_size)


@pytest.mark.parametrize("test_size", [0, 0.0, 1, 1.0, 1.5, -0.1])
def test_test_size_outside_open_unit_interval_is_rejected(test_size: float) -> None:
    with pytest.raises(InputError, match="test_size"):
        split_frame(_table({"a": 10, "b": 10}), "y", test_size=test_size)


def test_unknown_label_is_rejected() -> None:
    with pytest.raises(InputError, match="'nope'"):
        split_frame(_table({"a": 10, "b": 10}), "nope")


def test_single_class_training_split_is_rejected_whichever_seed_causes_it() -> None:
    # 9 rows of "a", 1 row of "b", unstratified: a seed either keeps "b" in the training
    # set (fine) or moves it to the test set (the training set then has one class).
    frame = _table({"a": 9, "b": 1})
    rejected = 0
    for seed in range(60):
        try:
            train, test, _ = split_frame(frame, "y", test_size=0.25, seed=seed, stratify=False)
        except InputError as exc:
            assert "single class" in str(exc)
            rejected += 1
        else:
            assert set(train["y"]) == {"a", "b"}
            assert "b" not in set(test["y"])
    assert 0 < rejected < 60


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_stratified_split_moving_a_lone_class_member_to_test_is_rejected(seed: int) -> None:
    # Stratified with test_size 0.6: a class of one member puts round(0.6) = 1 row into test,
    # so the training set has a single class, for every seed.
    frame = _table({"a": 9, "b": 1})
    with pytest.raises(InputError, match="single class"):
        split_frame(frame, "y", test_size=0.6, seed=seed, stratify=True)


def test_info_test_fingerprint_is_the_fingerprint_of_the_test_set() -> None:
    frame = _table({"a": 30, "b": 20})
    train, test, info = split_frame(frame, "y", test_size=0.3, seed=5)
    assert info.test_fingerprint == fingerprint_frame(test)
    assert info.test_fingerprint != fingerprint_frame(train)
    assert (info.train_rows, info.test_rows) == (len(train), len(test))
    assert (info.seed, info.test_size, info.stratified) == (5, 0.3, True)


@pytest.mark.parametrize("stratify", [True, False])
def test_train_and_test_partition_the_input_in_original_order(stratify: bool) -> None:
    frame = _table({"a": 50, "b": 27})
    train, test, _ = split_frame(frame, "y", test_size=0.25, seed=11, stratify=stratify)
    train_ids, test_ids = train["id"].tolist(), test["id"].tolist()
    assert not set(train_ids) & set(test_ids)
    assert sorted(train_ids + test_ids) == list(range(len(frame)))
    if not stratify:
        assert len(test) == 19  # 77 * 0.25 = 19.25 rows
    # Rows keep their relative order, and every row is unchanged.
    assert train_ids == sorted(train_ids) and test_ids == sorted(test_ids)
    pd.testing.assert_frame_equal(test, frame.set_index("id").loc[test_ids].reset_index())
    assert list(train.index) == list(range(len(train)))


def test_run_split_writes_sets_with_lineage_and_info(tmp_path: Path) -> None:
    run_ingest("builtin://breast_cancer", "target", "", str(tmp_path / "d.parquet"), str(tmp_path / "s.json"))
    info = run_split(
        str(tmp_path / "d.parquet"),
        str(tmp_path / "train.parquet"),
        str(tmp_path / "test.parquet"),
        str(tmp_path / "info.json"),
        test_size=0.2,
        seed=3,
    )
    train, train_meta = read_parquet(str(tmp_path / "train.parquet"))
    test, test_meta = read_parquet(str(tmp_path / "test.parquet"))
    assert len(train) + len(test) == 569
    assert json.loads((tmp_path / "info.json").read_text()) == info.to_dict()
    assert test_meta["split"] == info.to_dict() == train_meta["split"]
    assert test_meta["schema"]["label"] == "target"
    # The recorded fingerprint is that of the test set as a later step reads it.
    assert fingerprint_frame(test) == info.test_fingerprint
