"""I/O layer of `batch_predict`: resolve the model, read the batch, write predictions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from components.batch_predict.core import predict_batch, prediction_summary
from components.shared.artifacts import load_model_dir
from components.shared.fingerprint import fingerprint_frame
from components.shared.models import resolve_model, version_prefix
from components.shared.names import LAYOUT
from components.shared.sources import fetch_source, source_name
from components.shared.store import open_store
from components.shared.tables import read_table_bytes, write_parquet


@dataclass(frozen=True)
class BatchPredictions:
    """Where a batch's predictions went.

    Attributes:
        uri: URI of the predictions (Parquet).
        facts: Their metadata: model version and URI, input source and fingerprint, counts.
    """

    uri: str
    facts: dict[str, Any]


def run_batch_predict(
    store_uri: str, model: str, source: str, *, run_id: str = "", now: datetime | None = None
) -> BatchPredictions:
    """Predict ``source`` with ``model`` (``NAME`` for the champion or ``NAME:VERSION``).

    Writes ``predictions/<name>/<version>/<time>-<run>.parquet`` (never overwriting)
    whose metadata names the model version and the input's fingerprint.

    Raises:
        InputError: Unknown model or version, no champion, unreadable or unfit input.
    """
    store = open_store(store_uri)
    store.check_writable(LAYOUT.predictions)
    metadata = resolve_model(store, model)
    name, version = str(metadata["model_name"]), str(metadata["version"])
    loaded, _ = load_model_dir(store.uri_for(version_prefix(name, version)))
    frame = read_table_bytes(fetch_source(source), source_name(source))
    predictions = predict_batch(loaded, frame, metadata)
    created = now or datetime.now(UTC)
    facts = {
        "model_name": name,
        "version": version,
        "model_uri": metadata.get("uri"),
        "source": source,
        "input_fingerprint": fingerprint_frame(frame),
        "rows": len(predictions),
        "predicted": prediction_summary(predictions),
        "created_at": created.isoformat(),
        "run_id": run_id,
    }
    slug = re.sub(r"[^A-Za-z0-9_-]", "", run_id) or "local"
    key = f"{LAYOUT.predictions}/{name}/{version}/{created:%Y%m%dT%H%M%S%fZ}-{slug}.parquet"
    uri = write_parquet(predictions, store.uri_for(key), facts, overwrite=False)
    return BatchPredictions(uri, facts)
