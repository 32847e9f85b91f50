"""Pure core of `metrics_store`: the run record, its keys and how records are found."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from components.shared.errors import InputError
from components.shared.names import LAYOUT

PIPELINE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}\Z")
RUNS, EVALUATIONS = "runs", "evaluations"


def check_pipeline_name(name: str) -> str:
    """Return ``name`` if it is usable as a key part (lowercase, digits, '-', '_')."""
    if not PIPELINE_NAME.match(name):
        raise InputError(f"invalid pipeline name {name!r}")
    return name


def _stamp(created_at: datetime, run_id: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]", "", run_id) or "local"
    return f"{created_at:%Y%m%dT%H%M%S%fZ}-{slug}"


def record_key(pipeline: str, created_at: datetime, run_id: str) -> str:
    """Key of a run record: ``metrics/<pipeline>/runs/<time>-<run id>.json`` (sorts by time)."""
    return f"{LAYOUT.metrics}/{check_pipeline_name(pipeline)}/{RUNS}/{_stamp(created_at, run_id)}.json"


def evaluation_key(pipeline: str, created_at: datetime, run_id: str) -> str:
    """Key of the copy of a run's evaluation record, beside the run records."""
    return (
        f"{LAYOUT.metrics}/{check_pipeline_name(pipeline)}/{EVALUATIONS}/{_stamp(created_at, run_id)}.parquet"
    )


def build_record(
    *,
    pipeline: str,
    run_id: str,
    run_name: str,
    git_ref: str,
    git_commit: str,
    created_at: datetime,
    evaluation: dict[str, Any],
    evaluation_uri: str,
    parameters: dict[str, Any],
    model_name: str = "",
    model_version: str = "",
    model_uri: str = "",
) -> dict[str, Any]:
    """One run's record.

    Args:
        pipeline: Pipeline name.
        run_id: Run id.
        run_name: Run name.
        git_ref: Branch or tag the pipeline came from.
        git_commit: Commit the pipeline came from.
        created_at: Time of the record (UTC).
        evaluation: The evaluation record's facts (metrics, fingerprints, model lineage).
        evaluation_uri: Where the evaluation record is kept in the store.
        parameters: Run parameters.
        model_name: Model name, if the run stored a model.
        model_version: Model version, if the run stored a model.
        model_uri: Model URI, if the run stored a model.

    Returns:
        A JSON-ready dict.
    """
    model = evaluation.get("model", {})
    return {
        "pipeline": check_pipeline_name(pipeline),
        "run_id": run_id,
        "run_name": run_name,
        "git_ref": git_ref,
        "git_commit": git_commit,
        "created_at": created_at.isoformat(),
        "parameters": parameters,
        "metrics": evaluation.get("metrics", {}),
        "data_fingerprint": model.get("data_fingerprint"),
        "test_fingerprint": evaluation.get("test_fingerprint"),
        "test_rows": evaluation.get("test_rows"),
        "evaluation_uri": evaluation_uri,
        "model_name": model_name,
        "model_version": model_version,
        "model_uri": model_uri,
    }


def select_record(records: list[dict[str, Any]], selector: str) -> dict[str, Any]:
    """The one record whose run id or run name equals ``selector`` (or starts with it).

    Raises:
        InputError: No record, or several, match.
    """
    exact = [r for r in records if selector in (r.get("run_id"), r.get("run_name"))]
    found = exact or [
        r
        for r in records
        if str(r.get("run_id", "")).startswith(selector) or str(r.get("run_name", "")).startswith(selector)
    ]
    if not found:
        raise InputError(f"no run record matches {selector!r}")
    if len(found) > 1:
        names = ", ".join(str(r.get("run_name") or r.get("run_id")) for r in found[:5])
        raise InputError(f"{len(found)} run records match {selector!r} ({names}); be more specific")
    return found[0]
