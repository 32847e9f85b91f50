"""The hand-off record: what was handed to KServe, from which training run and data, by whom."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from components.shared.store import LAYOUT

HANDOFF_PREFIX = f"{LAYOUT.metrics}/serving/handoffs"


def handoff_key(now: datetime, model_name: str, version: str) -> str:
    """Store key of a hand-off record: ``metrics/serving/handoffs/<UTC stamp>-<model>-<version>.json``."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{HANDOFF_PREFIX}/{stamp}-{model_name}-{version}.json"


def handoff_record(
    metadata: dict[str, Any],
    obj: dict[str, Any],
    *,
    resolved_from: str,
    store_uri: str,
    context: str,
    actor: str,
    now: datetime,
    served_from: dict[str, str],
) -> dict[str, Any]:
    """What was handed to KServe, from which training run and data, by whom and when."""
    return {
        "kind": "kfops.serving.handoff",
        "schema_version": 1,
        "model_name": metadata["model_name"],
        "version": metadata["version"],
        "resolved_from": resolved_from,
        "model_uri": obj["spec"]["predictor"]["model"]["storageUri"],
        "store": store_uri,
        "metrics": metadata.get("metrics", {}),
        "data_fingerprint": metadata.get("data_fingerprint"),
        "test_fingerprint": metadata.get("test_fingerprint"),
        "run_id": metadata.get("run_id"),
        "run_name": metadata.get("run_name"),
        "git_commit": metadata.get("git_commit"),
        "git_ref": metadata.get("git_ref"),
        "model_created_at": metadata.get("created_at"),
        "sklearn_version": metadata.get("sklearn_version"),
        "served_from": served_from,
        "actor": actor,
        "handed_off_at": now.astimezone(UTC).isoformat(),
        "target": {
            "context": context,
            "namespace": obj["metadata"]["namespace"],
            "name": obj["metadata"]["name"],
        },
        "inference_service": obj,
    }
