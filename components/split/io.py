"""I/O layer of `split`: read the dataset, split it, write both sets and the split facts."""

from __future__ import annotations

import json

from components.shared.drift import reference_profile
from components.shared.schema import DatasetSchema
from components.shared.store import write_uri
from components.shared.tables import read_parquet, write_parquet
from components.shared.tasks import REGRESSION
from components.split.core import SplitInfo, split_frame


def run_split(
    dataset_uri: str,
    train_uri: str,
    test_uri: str,
    info_uri: str,
    *,
    test_size: float = 0.25,
    seed: int = 42,
    stratify: bool = True,
) -> SplitInfo:
    """Split the dataset written by `ingest` into train and test Parquet files.

    Args:
        dataset_uri: The validated dataset (Parquet with its schema in the metadata).
        train_uri: Output for the training set.
        test_uri: Output for the test set (the frozen evaluation set).
        info_uri: Output for the split facts (JSON), including the test fingerprint.
        test_size: Fraction of rows for the test set.
        seed: Random seed.
        stratify: Keep class proportions.

    Returns:
        The split facts.
    """
    frame, meta = read_parquet(dataset_uri)
    schema = DatasetSchema.from_dict(meta.get("schema", {}))
    train, test, info = split_frame(
        frame,
        schema.label,
        test_size=test_size,
        seed=seed,
        stratify=stratify,
        regression=schema.task == REGRESSION,
    )
    lineage = {**meta, "split": info.to_dict()}
    # The training distribution, for label-free drift monitoring of this model's inputs.
    profile = reference_profile(train, list(schema.numeric), list(schema.categorical))
    write_parquet(train, train_uri, {**lineage, "profile": profile})
    write_parquet(test, test_uri, lineage)
    write_uri(info_uri, json.dumps(info.to_dict(), indent=2, sort_keys=True).encode())
    return info
