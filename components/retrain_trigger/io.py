"""I/O layer of `retrain_trigger`: start the deployed training pipeline through the KFP API.

Inside the cluster the task's pod carries the ``access-ml-pipeline`` label, so the
kfops PodDefault mounts a projected ServiceAccount token that ``kfp.Client``
reads (``ServiceAccountTokenVolumeCredentials``); no secret is stored anywhere.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from components.monitoring.core import claim_key, parse_time, trigger_key
from components.retrain_trigger.core import MANAGED_PREFIX, TOKEN_PATH, notification, trigger_record
from components.shared.errors import InputError, KfopsError, ObjectExistsError
from components.shared.kfp_timeout import impose_timeout
from components.shared.store import open_store
from components.shared.webhook import notify

TIMEOUT_SECONDS = 30.0


class TriggerError(KfopsError):
    """The KFP API refused or could not be reached: no run was started."""

    exit_code = 1


def pod_namespace() -> str:
    """The namespace this pod runs in (the profile namespace in Kubeflow), or ``""``."""
    path = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    return path.read_text().strip() if path.is_file() else ""


def check_api(host: str, token: str) -> None:
    """Fail fast and clearly unless the KFP API answers this token.

    ``kfp.Client()`` retries its own health check for ~25 s on any error and then
    raises a misleading ``TimeoutError``; this check comes first, with a timeout,
    bounded retries on 5xx and connection errors, and none on 401/403.

    Raises:
        TriggerError: Refused, or unreachable after the retries.
    """
    import urllib3

    retry = urllib3.Retry(
        total=3, backoff_factor=0.5, status_forcelist=(502, 503, 504), raise_on_status=False
    )
    try:
        response = urllib3.request(
            "GET",
            f"{host.rstrip('/')}/apis/v2beta1/healthz",
            headers={"Authorization": f"Bearer {token}"},
            timeout=urllib3.Timeout(connect=5.0, read=TIMEOUT_SECONDS),
            retries=retry,
        )
    except urllib3.exceptions.HTTPError as exc:
        raise TriggerError(f"cannot reach the KFP API at {host}: {exc}") from None
    if response.status in (401, 403):
        raise TriggerError(
            f"KFP API at {host} refused to start training: HTTP {response.status}; check the token's "
            "audience (pipelines.kubeflow.org) and that the ServiceAccount may create runs in this namespace"
        )
    if response.status >= 300:
        raise TriggerError(f"KFP API at {host} refused to start training: HTTP {response.status}")


def start_training_run(
    host: str, namespace: str, pipeline: str, parameters: dict[str, Any], *, experiment: str = "kfops"
) -> str:
    """Start a run of the newest version of the deployed ``pipeline``; returns the run id.

    Raises:
        InputError: The pipeline is not deployed.
        TriggerError: The API refused (401/403/5xx after retries) or timed out.
    """
    import kfp
    from kfp.client import ServiceAccountTokenVolumeCredentials
    from kfp_server_api.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    token_path = os.environ.get("KF_PIPELINES_SA_TOKEN_PATH", TOKEN_PATH)
    if not Path(token_path).is_file():
        raise TriggerError(
            f"no KFP token at {token_path}: the task needs the pod label access-ml-pipeline=true "
            "and the kfops PodDefault in its namespace"
        )
    check_api(host, Path(token_path).read_text().strip())
    namespace = namespace or pod_namespace()
    try:
        client = kfp.Client(
            host=host,
            namespace=namespace or "kubeflow",
            credentials=ServiceAccountTokenVolumeCredentials(token_path),
        )
        impose_timeout(client, (5.0, TIMEOUT_SECONDS))
        # Multi-user KFP lists a namespace's pipelines only when asked for that namespace.
        name_filter = json.dumps(
            {"predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": pipeline}]}
        )
        found = client.list_pipelines(filter=name_filter, namespace=namespace or None)
        if not found.pipelines:
            raise InputError(
                f"pipeline {pipeline!r} is not deployed at {host} (namespace {namespace or 'shared'}); "
                "run kfops deploy first"
            )
        pipeline_id = found.pipelines[0].pipeline_id
        version_id = _deployed_version(client, pipeline, namespace) or _newest_version(client, pipeline_id)
        if version_id is None:
            raise InputError(f"pipeline {pipeline!r} has no versions at {host}")
        exp = client.create_experiment(experiment, namespace=namespace or None)
        run = client.run_pipeline(
            experiment_id=exp.experiment_id,
            job_name=f"{pipeline}-retrain-{datetime.now(UTC):%Y%m%d-%H%M%S}",
            params=parameters,
            pipeline_id=pipeline_id,
            version_id=version_id,
        )
    except KfopsError:
        raise
    except ApiException as exc:
        detail = f"HTTP {exc.status}: {' '.join(str(exc.body or exc.reason).split())[:300]}"
        if exc.status in (400, 404, 409, 422):  # the request itself is wrong (e.g. an unknown parameter)
            raise InputError(f"KFP API at {host} rejected the {pipeline} run: {detail}") from None
        raise TriggerError(f"KFP API at {host} refused to start {pipeline}: {detail}") from None
    except ValueError as exc:  # e.g. kfp.Client finds two experiments of one name
        raise TriggerError(f"cannot start {pipeline} at {host}: {exc}") from None
    except (HTTPError, OSError) as exc:
        raise TriggerError(f"cannot reach the KFP API at {host}: {exc}") from None
    return str(run.run_id)


def _deployed_version(client: Any, pipeline: str, namespace: str) -> str | None:
    """The version kfops' recurring runs of ``pipeline`` use (what deploy or rollback chose)."""
    token = ""
    for _ in range(100):
        page = client.list_recurring_runs(page_token=token, page_size=100, namespace=namespace or None)
        for run in page.recurring_runs or []:
            try:
                facts = json.loads(run.description or "")
            except json.JSONDecodeError:
                continue
            if (
                isinstance(facts, dict)
                and facts.get("pipeline") == pipeline
                and str(run.display_name or "").startswith(MANAGED_PREFIX)
                and run.pipeline_version_reference
            ):
                return str(run.pipeline_version_reference.pipeline_version_id)
        token = page.next_page_token or ""
        if not token:
            break
    return None


def _newest_version(client: Any, pipeline_id: str) -> str | None:
    """Without a schedule to follow, the newest uploaded version."""
    versions = client.list_pipeline_versions(pipeline_id, page_size=1, sort_by="created_at desc")
    return str(versions.pipeline_versions[0].pipeline_version_id) if versions.pipeline_versions else None


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
