"""I/O layer of `metrics_store`: append run records and read them back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from components.metrics_store.core import (
    RUNS,
    build_record,
    check_pipeline_name,
    evaluation_key,
    record_key,
    select_record,
)
from components.shared.errors import InputError
from components.shared.lineage import training_parameters
from components.shared.names import LAYOUT
from components.shared.store import open_store, read_uri
from components.shared.tables import read_parquet_metadata


def append_record(
    evaluation_uri: str,
    store_uri: str,
    pipeline: str,
    *,
    run_id: str = "",
    run_name: str = "",
    git_ref: str = "",
    git_commit: str = "",
    model_name: str = "",
    model_version: str = "",
    model_uri: str = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Copy the evaluation record into the store and append the run's record.

    Both objects are written with create-if-absent semantics: a record is never
    replaced. The evaluation copy is written first, so a visible record always
    points at an existing evaluation.

    Args:
        evaluation_uri: Evaluation record written by `evaluate`.
        store_uri: Store root (local directory or ``s3://bucket/prefix``).
        pipeline: Pipeline name (e.g. ``training``).
        run_id: Run id.
        run_name: Run name.
        git_ref: Branch or tag.
        git_commit: Commit.
        model_name: Model name, if stored.
        model_version: Model version, if stored.
        model_uri: Model URI, if stored.
        now: Clock override (tests).

    Returns:
        The record, with ``record_uri`` added.
    """
    store = open_store(store_uri)
    store.check_writable()
    check_pipeline_name(pipeline)
    created_at = now or datetime.now(UTC)
    facts = read_parquet_metadata(evaluation_uri)
    stored_eval = store.write(
        evaluation_key(pipeline, created_at, run_id), read_uri(evaluation_uri), overwrite=False
    )
    record = build_record(
        pipeline=pipeline,
        run_id=run_id,
        run_name=run_name,
        git_ref=git_ref,
        git_commit=git_commit,
        created_at=created_at,
        evaluation=facts,
        evaluation_uri=stored_eval,
        parameters=training_parameters(facts.get("model", {})),
        model_name=model_name,
        model_version=model_version,
        model_uri=model_uri,
    )
    key = record_key(pipeline, created_at, run_id)
    record_uri = store.write(key, json.dumps(record, indent=2, sort_keys=True).encode(), overwrite=False)
    return {**record, "record_uri": record_uri}


def list_records(store_uri: str, pipeline: str | None = None) -> list[dict[str, Any]]:
    """All run records in the store (optionally of one pipeline), oldest first."""
    store = open_store(store_uri)
    prefix = f"{LAYOUT.metrics}/{check_pipeline_name(pipeline)}" if pipeline else LAYOUT.metrics
    records = []
    for key in store.list(prefix):
        parts = key.split("/")
        if len(parts) == 4 and parts[2] == RUNS and key.endswith(".json"):
            try:
                record = json.loads(store.read(key))
            except json.JSONDecodeError:
                raise InputError(f"malformed run record {store.uri_for(key)}") from None
            records.append({**record, "record_uri": store.uri_for(key)})
    return sorted(records, key=lambda r: (r.get("created_at", ""), r.get("run_id", "")))


def show_record(store_uri: str, selector: str, pipeline: str | None = None) -> dict[str, Any]:
    """The record of one run, by run id or run name (or a unique prefix of either)."""
    return select_record(list_records(store_uri, pipeline), selector)
