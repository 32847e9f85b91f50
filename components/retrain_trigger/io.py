"""I/O layer of `retrain_trigger`: start the deployed training pipeline through the KFP API.

Inside the cluster the task's pod carries the ``access-ml-pipeline`` label, so the
kfops PodDefault mounts a projected ServiceAccount token, which the client re-reads
on every request; no secret is stored anywhere. The API calls are kfops' one KFP
client (``components/kfp_api``), which this image copies.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from components.kfp_api import ApiError, AuthError, KfpApi
from components.kfp_api.managed import scheduled_version
from components.monitoring.core import claim_key, parse_time, trigger_key
from components.retrain_trigger.core import notification, trigger_record
from components.shared.errors import InputError, KfopsError, ObjectExistsError
from components.shared.names import DEFAULT_EXPERIMENT, TOKEN_PATH, TOKEN_PATH_ENV, TOKEN_POD_LABEL
from components.shared.store import open_store
from components.shared.webhook import notify


class TriggerError(KfopsError):
    """The KFP API refused or could not be reached: no run was started."""

    exit_code = 1


def pod_namespace() -> str:
    """The namespace this pod runs in (the profile namespace in Kubeflow), or ``""``."""
    path = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    return path.read_text().strip() if path.is_file() else ""


def start_training_run(
    host: str,
    namespace: str,
    pipeline: str,
    parameters: dict[str, Any],
    *,
    experiment: str = DEFAULT_EXPERIMENT,
) -> str:
    """Start a run of the deployed ``pipeline`` (the version its schedules use, else the newest).

    The token is re-read from the projected file on every request (it rotates).

    Raises:
        InputError: The pipeline is not deployed, or the server rejected the run's parameters.
        TriggerError: Refused (401/403/login redirect), unreachable, or failed after the retries.
    """
    from kfp_server_api import V2beta1PipelineVersionReference, V2beta1Run, V2beta1RuntimeConfig

    token_path = Path(os.environ.get(TOKEN_PATH_ENV, TOKEN_PATH))
    if not token_path.is_file():
        raise TriggerError(
            f"no KFP token at {token_path}: the task needs the pod label {'='.join(TOKEN_POD_LABEL)} "
            "and the kfops PodDefault in its namespace"
        )
    namespace = namespace or pod_namespace()
    api = KfpApi(host, lambda: token_path.read_text().strip(), namespace)
    try:
        api.preflight()
        found = api.find_pipeline(pipeline)
        if found is None:
            raise InputError(
                f"pipeline {pipeline!r} is not deployed at {host} (namespace {namespace or 'shared'}); "
                "run kfops deploy first"
            )
        version_id = scheduled_version(api.recurring_runs(), pipeline) or _newest_version(
            api, found.pipeline_id
        )
        if version_id is None:
            raise InputError(f"pipeline {pipeline!r} has no versions at {host}")
        body = V2beta1Run(
            display_name=f"{pipeline}-retrain-{datetime.now(UTC):%Y%m%d-%H%M%S}",
            experiment_id=api.experiment(experiment).experiment_id,
            pipeline_version_reference=V2beta1PipelineVersionReference(
                pipeline_id=found.pipeline_id, pipeline_version_id=version_id
            ),
            runtime_config=V2beta1RuntimeConfig(parameters=parameters),
        )
        run = api.create_run(body)
    except AuthError as exc:
        raise TriggerError(f"KFP API refused to start {pipeline}: {exc}") from None
    except ApiError as exc:
        if exc.status in (400, 404, 409, 422):  # the request itself is wrong (e.g. an unknown parameter)
            raise InputError(f"KFP API at {host} rejected the {pipeline} run: {exc}") from None
        raise TriggerError(str(exc)) from None
    return str(run.run_id)


def _newest_version(api: KfpApi, pipeline_id: str) -> str | None:
    """Without a schedule to follow, the newest uploaded version."""
    versions = api.versions(pipeline_id)
    return str(versions[-1].pipeline_version_id) if versions else None


def record_trigger(store_uri: str, model_name: str, trigger: dict[str, Any]) -> str:
    """Record a retraining that has started (this, and only this, starts the cooldown)."""
    store = open_store(store_uri)
    key = trigger_key(model_name, parse_time(str(trigger["started_at"])), str(trigger.get("run_id", "")))
    return store.write(key, json.dumps(trigger, indent=2, sort_keys=True).encode(), overwrite=False)


def _claim(store: Any, key: str) -> bool:
    """Take this window's one retraining start (create-if-absent); ``False`` when already taken.

    Two monitoring runs of the same window (a manual one beside the scheduled one, or a
    retried task) start one training run between them. A claim whose start failed
    can be taken again; one whose start is in flight or done cannot.
    """
    starting = json.dumps({"state": "starting", "at": datetime.now(UTC).isoformat()}).encode()
    try:
        store.write(key, starting, overwrite=False)
        return True
    except ObjectExistsError:
        if json.loads(store.read(key)).get("state") == "failed":
            store.write(key, starting)
            return True
        return False


def run_trigger(
    window_json: str,
    *,
    host: str,
    namespace: str,
    pipeline: str,
    parameters: dict[str, Any],
    store_uri: str,
    webhook_url: str = "",
) -> dict[str, Any] | None:
    """Start the retraining on the cluster, then record it and notify; ``None`` when ``host`` is empty.

    With no host (a local ``kfops run monitoring``), nothing is started here: the
    launcher starts a local training run itself and records it.
    """
    window = json.loads(window_json)
    if not host:
        print("local run: kfops starts the retraining itself")
        return None
    store = open_store(store_uri)
    claim = claim_key(str(window["model_name"]), parse_time(str(window["as_of"])))
    if not _claim(store, claim):
        print(f"this window's retraining was already started ({store.uri_for(claim)}); not starting another")
        return None
    try:
        run_id = start_training_run(host, namespace, pipeline, parameters)
    except KfopsError:
        store.write(claim, json.dumps({"state": "failed"}).encode())  # a later attempt may try again
        raise
    store.write(claim, json.dumps({"state": "started", "run_id": run_id}).encode())
    record = trigger_record(
        window,
        pipeline=pipeline,
        run_id=run_id,
        where=host,
        parameters=parameters,
        recorded_at=datetime.now(UTC).isoformat(),
    )
    record_trigger(store_uri, str(window["model_name"]), record)
    notify(webhook_url, notification(record))
    return record
