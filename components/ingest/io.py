"""I/O layer of `ingest`: fetch the source, validate it, write the dataset and schema."""

from __future__ import annotations

import json

from components.ingest.core import parse_columns, synthetic_dataset, validate_dataset
from components.shared.errors import InputError
from components.shared.schema import DatasetSchema
from components.shared.sources import fetch_source, source_name
from components.shared.store import check_output_location, write_uri
from components.shared.tables import read_table_bytes, write_parquet


def run_ingest(
    source: str,
    label_column: str,
    categorical_columns: str,
    dataset_uri: str,
    schema_uri: str,
    task: str = "auto",
) -> DatasetSchema:
    """Read ``source``, validate it and write the Parquet dataset and JSON schema.

    Args:
        source: Path, ``file://``, ``s3://``, ``https://`` or ``builtin://`` URI of a CSV or Parquet file.
        label_column: Name of the label column.
        categorical_columns: Comma-separated feature columns to treat as categorical.
        dataset_uri: Where to write the validated dataset (Parquet).
        schema_uri: Where to write the schema (JSON).
        task: ``auto``, ``classification`` or ``regression``.

    Returns:
        The dataset's schema.
    """
    raw = read_table_bytes(fetch_source(source), source_name(source))
    frame, schema = validate_dataset(raw, label_column, parse_columns(categorical_columns), task)
    write_parquet(frame, dataset_uri, {"schema": schema.to_dict(), "source": source})
    payload = {**schema.to_dict(), "source": source}
    write_uri(schema_uri, json.dumps(payload, indent=2, sort_keys=True).encode())
    return schema


def write_synthetic(rows: int, output_uri: str, features: int = 20, seed: int = 0) -> str:
    """Write a synthetic dataset (CSV or Parquet by suffix) and return its URI."""
    if not source_name(output_uri).lower().endswith((".csv", ".parquet", ".pq")):
        raise InputError(f"--output {output_uri!r} must end in .csv or .parquet")
    check_output_location(output_uri)
    frame = synthetic_dataset(rows, features, seed)
    if output_uri.lower().endswith((".parquet", ".pq")):
        return write_parquet(frame, output_uri)
    return write_uri(output_uri, frame.to_csv(index=False).encode())
