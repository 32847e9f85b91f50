"""Pure core of `retrain_trigger`: what training run to start, and what to record once started."""

from __future__ import annotations

import json
from typing import Any

from components.shared.errors import InputError

#: The in-cluster KFP API (multi-user Kubeflow); pods reach it with the PodDefault-mounted token.
IN_CLUSTER_HOST = "http://ml-pipeline.kubeflow.svc.cluster.local:8888"


def training_parameters(extra: str, *, store: str, model_name: str, source: str) -> dict[str, Any]:
    """Parameters of the retraining run: the window's store, model and data, plus ``extra``.

    A retraining may replace the champion (``promote``: true) unless ``extra`` says otherwise.

    Args:
        extra: JSON object of further training parameters (they win over the defaults).
        store: Store root.
        model_name: Model to retrain.
        source: Data to retrain on (by default the window that fired the rule).

    Raises:
        InputError: ``extra`` is not a JSON object.
    """
    try:
        parsed = json.loads(extra) if extra.strip() else {}
    except json.JSONDecodeError as exc:
        raise InputError(f"training_parameters is not JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise InputError("training_parameters must be a JSON object")
    return {"store": store, "model_name": model_name, "source": source, "promote": True, **parsed}


def trigger_record(
    window: dict[str, Any],
    *,
    pipeline: str,
    run_id: str,
    where: str,
    parameters: dict[str, Any],
    recorded_at: str,
) -> dict[str, Any]:
    """The record of a retraining that started (its ``started_at`` is the window's time)."""
    return {
        "model_name": window["model_name"],
        "started_at": window["as_of"],
        "recorded_at": recorded_at,
        "pipeline": pipeline,
        "run_id": run_id,
        "where": where,
        "parameters": parameters,
        "reason": window["decision"]["reason"],
        "window_source": window["source"],
        "champion_version": window["champion_version"],
        "value": window["value"],
    }


def notification(record: dict[str, Any]) -> dict[str, Any]:
    """Webhook payload (Slack-compatible ``text`` plus the record)."""
    text = (
        f"kfops: retraining of {record['model_name']} started ({record['where']} run {record['run_id']}): "
        f"{record['reason']}"
    )
    return {"text": text, "event": "retraining_started", "record": record}
