"""I/O layer of `model_storage`: copy a trained model into the store, never overwriting."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from components.model_storage.core import build_metadata, new_version
from components.shared.artifacts import METADATA_FILE, MODEL_FILE
from components.shared.errors import StoreError
from components.shared.models import check_model_name, read_history, version_prefix
from components.shared.names import LAYOUT
from components.shared.store import open_store, read_uri
from components.shared.tables import read_parquet_metadata


@dataclass(frozen=True)
class StoredModel:
    """Where a model version went.

    Attributes:
        version: Version id.
        uri: URI of the version's folder (a KServe ``storageUri``).
        metadata: The stored metadata.
    """

    version: str
    uri: str
    metadata: dict[str, Any]


def store_model(
    model_dir: str,
    evaluation_uri: str,
    store_uri: str,
    model_name: str,
    *,
    run_id: str = "",
    run_name: str = "",
    git_commit: str = "",
    git_ref: str = "",
    version: str = "",
    now: datetime | None = None,
) -> StoredModel:
    """Write ``<store>/models/<name>/<version>/{model.joblib,metadata.json}``.

    Both writes refuse to replace an existing object, so a version is immutable.
    ``metadata.json`` is written last: a version without it is incomplete and
    readers skip it.

    Args:
        model_dir: Directory written by `train`.
        evaluation_uri: Evaluation record written by `evaluate` (for metrics and fingerprints).
        store_uri: Store root (local directory or ``s3://bucket/prefix``).
        model_name: Model name (DNS-label rules).
        run_id: Pipeline run id.
        run_name: Pipeline run name.
        git_commit: Commit the pipeline was built from.
        git_ref: Branch or tag.
        version: Explicit version id; default: from the time and the run id.
        now: Clock override (tests).

    Returns:
        The stored version.

    Raises:
        ObjectExistsError: The version already exists.
    """
    check_model_name(model_name)
    store = open_store(store_uri)
    store.check_writable(LAYOUT.models)
    # The champion task reads this history after the version is stored: a corrupt record must
    # fail the run before anything is stored, not after (it would leave an orphan version).
    read_history(store, model_name)
    created_at = now or datetime.now(UTC)
    version = version or new_version(created_at, run_id)
    evaluation = read_parquet_metadata(evaluation_uri)
    metadata = build_metadata(
        model_name=model_name,
        version=version,
        created_at=created_at,
        run_id=run_id,
        run_name=run_name,
        git_commit=git_commit,
        git_ref=git_ref,
        evaluation=evaluation,
    )
    prefix = version_prefix(model_name, version)
    model_bytes = read_uri(f"{model_dir.rstrip('/')}/{MODEL_FILE}")
    store.write(f"{prefix}/{MODEL_FILE}", model_bytes, overwrite=False)
    uri = store.uri_for(prefix) + "/"
    metadata["uri"] = uri
    store.write(
        f"{prefix}/{METADATA_FILE}", json.dumps(metadata, indent=2, sort_keys=True).encode(), overwrite=False
    )
    return StoredModel(version, uri, metadata)


def list_versions(store_uri: str, model_name: str) -> list[dict[str, Any]]:
    """Metadata of every complete version of a model, oldest first."""
    store = open_store(store_uri)
    prefix = f"{LAYOUT.models}/{check_model_name(model_name)}"
    keys = [k for k in store.list(prefix) if k.endswith(f"/{METADATA_FILE}")]
    return [json.loads(store.read(k)) for k in keys]


def load_version_metadata(store_uri: str, model_name: str, version: str) -> dict[str, Any]:
    """Metadata of one model version."""
    store = open_store(store_uri)
    key = f"{version_prefix(model_name, version)}/{METADATA_FILE}"
    if not store.exists(key):
        raise StoreError(f"model {model_name} has no version {version!r} in {store.uri}")
    return dict(json.loads(store.read(key)))
