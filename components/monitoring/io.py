"""I/O layer of `monitoring`: read the window and the champion, score, record (the rule is in core)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from components.evaluate.core import evaluate_model, model_task
from components.monitoring.core import (
    MONITORING_PREFIX,
    MonitorSettings,
    check_window_labels,
    judge_window,
    parse_time,
    resolve_metric,
    retrain_decision,
    window_key,
)
from components.shared.artifacts import load_model_dir
from components.shared.drift import population_stability
from components.shared.errors import InputError
from components.shared.fingerprint import fingerprint_frame
from components.shared.models import check_model_name, read_champion, version_metadata, version_prefix
from components.shared.schema import model_inputs
from components.shared.sources import fetch_source, source_name
from components.shared.store import Store, open_store
from components.shared.tables import read_table_bytes
from components.shared.tasks import CLASSIFICATION


def _records(store: Store, prefix: str) -> list[dict[str, Any]]:
    return [json.loads(store.read(k)) for k in store.list(prefix) if k.endswith(".json")]


def _like_classes(labels: pd.Series, classes: Any) -> pd.Series:
    """Labels read as floats because of missing values (1.0) compared as the model's classes (1)."""
    # Part of reading the window, and it needs numpy: core.py is also copied into the
    # retrain_trigger image, which installs neither numpy nor pandas.
    kind = np.asarray(classes).dtype.kind
    if kind in "iu" and labels.dtype.kind == "f" and bool((labels == labels.round()).all()):
        return labels.astype("int64")
    return labels


def run_monitoring(
    store_uri: str,
    model_name: str,
    source: str,
    settings: MonitorSettings,
    *,
    as_of: str = "",
    run_id: str = "",
    record_window: bool = True,
) -> dict[str, Any]:
    """Score the champion on the labeled window ``source``, record the window, decide on retraining.

    The window record (metrics, per-feature PSI against the training profile, the
    rule's decision) is written last and never overwritten; on any error nothing is
    recorded.

    Args:
        store_uri: Store root.
        model_name: Model whose champion is watched.
        source: Labeled window: path or URI of a CSV or Parquet file.
        settings: The retraining rule.
        as_of: Time of the window (ISO 8601; empty: now).
        run_id: Pipeline run id.
        record_window: Write the window record (``False``: a dry run, which writes nothing).

    Returns:
        The window record, including ``decision``.

    Raises:
        InputError: No champion, an empty window, unseen labels, missing features.
    """
    store = open_store(store_uri)
    if record_window:
        store.check_writable()
    check_model_name(model_name)
    when = parse_time(as_of)
    champion = read_champion(store, model_name)
    if champion is None:
        raise InputError(
            f"model {model_name!r} has no champion in {store.uri}; run the training pipeline first"
        )
    version = str(champion["version"])
    metadata = version_metadata(store, model_name, version)
    model, _ = load_model_dir(store.uri_for(version_prefix(model_name, version)))
    window = read_table_bytes(fetch_source(source), source_name(source))
    label = str(metadata["label"])
    if len(window) == 0:
        raise InputError(f"window {source} has no rows")
    if label not in window.columns:
        raise InputError(f"window {source} has no label column {label!r}; monitoring needs labeled windows")
    window = window.dropna(subset=[label]).reset_index(drop=True)
    if len(window) == 0:
        raise InputError(f"window {source} has no labeled rows")
    task = model_task(model)
    settings = resolve_metric(settings, task)
    if task == CLASSIFICATION:
        window[label] = _like_classes(window[label], model.classes_)
        classes = [str(c) for c in model.classes_]
        check_window_labels([str(v) for v in window[label].unique()], classes)
    features = list(metadata["features"])
    inputs = model_inputs(window, features, list(metadata.get("categorical", [])))
    scored = evaluate_model(model, inputs.assign(**{label: window[label].to_numpy()}), features, label)
    verdict = judge_window(settings, scored.metrics, metadata.get("metrics", {}))
    drift = population_stability(metadata.get("profile") or {}, window)
    record: dict[str, Any] = {
        "model_name": model_name,
        "champion_version": version,
        "as_of": when.isoformat(),
        "source": source,
        "input_fingerprint": fingerprint_frame(window),
        "rows": len(window),
        "metrics": scored.metrics,
        **verdict.to_dict(),  # metric, value, champion_value, floor, higher_is_better, below
        "psi": drift,
        "psi_max": max(drift.values(), default=0.0),
        "settings": settings.to_dict(),
        "run_id": run_id,
    }
    recorded = _records(store, f"{MONITORING_PREFIX}/{model_name}/windows")
    triggers = _records(store, f"{MONITORING_PREFIX}/{model_name}/triggers")
    record["decision"] = retrain_decision(record, recorded, triggers, when, settings).to_dict()
    if not record_window:
        return record
    store.write(
        window_key(model_name, when, run_id),
        json.dumps(record, indent=2, sort_keys=True).encode(),
        overwrite=False,
    )
    return record


def list_windows(store_uri: str, model_name: str) -> list[dict[str, Any]]:
    """Every window record of a model, oldest first."""
    return _records(open_store(store_uri), f"{MONITORING_PREFIX}/{check_model_name(model_name)}/windows")
