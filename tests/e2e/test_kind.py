"""The team's own pipelines on a real Kubeflow Pipelines (kind): deploy, train, monitor, redeploy.

The cluster, KFP 2.17 (multi-user), the kind overlay and the component images come from
``conftest.py``. Tests run in file order and share one session: the training run's model
becomes the champion the monitoring run watches; the second deploy comes last.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.shared.names import CI_SERVICE_ACCOUNT, DEPLOYERS_GROUP, PIPELINES_AUDIENCE, TOKEN_DIR
from kfops.auth import EXPIRATION_SECONDS
from tests.e2e import harness as h
from tests.e2e.conftest import (
    DEPLOYER,
    Deploy,
    ObjectStore,
    Settings,
    Tokens,
    TrainingRun,
    pipeline_ids,
    run_deploy,
    run_summary,
    start_and_wait,
)

pytestmark = pytest.mark.kind

#: Window 6 of ``builtin://breast_cancer_drift`` (inputs drift from window 3 on): the champion's
#: accuracy falls more than the default tolerance (0.05) below its own evaluation, so with
#: windows_below=1, window_count=1 and no cooldown the retraining rule fires in one run.
DRIFTED_WINDOW = 6
TOKEN_VOLUME = "volume-kf-pipeline-token"  # the access-ml-pipeline PodDefault's volume


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_ci_tokens_are_minted_for_the_ci_service_account_only(
    tokens: Tokens, cluster: h.Kubectl, namespace: str
) -> None:
    """The overlay's token-minter Role: the deployers group gets 10-minute KFP tokens for
    kfops-ci, and for no other ServiceAccount (what ``--token-from-eks`` relies on)."""
    claims = _claims(tokens.ci())
    assert PIPELINES_AUDIENCE in claims["aud"]
    assert claims["sub"] == f"system:serviceaccount:{namespace}:{CI_SERVICE_ACCOUNT}"
    assert 0 < claims["exp"] - claims["iat"] <= EXPIRATION_SECONDS

    refused = cluster.create_token(
        namespace,
        "default-editor",
        audience=PIPELINES_AUDIENCE,
        seconds=EXPIRATION_SECONDS,
        as_user=DEPLOYER,
        as_groups=(DEPLOYERS_GROUP,),
        check=False,
    )
    assert refused.returncode != 0
    assert "forbidden" in refused.stderr.lower(), refused.stderr


def test_deploy_uploads_every_compiled_pipeline(
    first_deploy: Deploy, compiled: list[Path], settings: Settings, kfp_client: Any, namespace: str
) -> None:
    """``kfops deploy`` with the CI ServiceAccount's token: every compiled pipeline is on the
    server under its content-addressed version, with its Kubernetes platform spec."""
    audit = first_deploy.audit
    names = {path.stem for path in compiled}
    assert audit["namespace"] == namespace
    assert {label.split("@")[0] for label in audit["uploaded"] + audit["unchanged"]} == names
    if not settings.reuse:  # a fresh cluster has none of them
        assert {label.split("@")[0] for label in audit["uploaded"]} == names, first_deploy.stdout
        assert audit["schedules"]["created"] == ["training-e2e"], audit["schedules"]
    labels = dict(label.split("@") for label in audit["uploaded"] + audit["unchanged"])
    for path in compiled:
        pipeline_id, version_id = pipeline_ids(first_deploy, path.stem)
        version = kfp_client.get_version(pipeline_id, version_id)
        assert version.display_name == labels[path.stem]
        documents = _documents(path)
        if len(documents) > 1:  # e.g. monitoring: the trigger's pod label lives in the platform spec
            uploaded = version.pipeline_spec or {}
            assert uploaded.get("platform_spec") == documents[1], (
                f"{path.stem} was uploaded without its Kubernetes platform spec "
                "(pod labels such as access-ml-pipeline would be lost)"
            )


def test_a_service_account_without_pipeline_rights_is_refused(
    kfp_api: h.PortForward,
    store: ObjectStore,
    cluster: h.Kubectl,
    namespace: str,
    workdir: Path,
    schedules_file: Path,
    tokens: Tokens,
    first_deploy: Deploy,
) -> None:
    """Multi-user KFP authorizes: a valid token of an unbound ServiceAccount gets 403 and uploads nothing."""
    token = cluster.create_token(
        namespace, "default", audience=PIPELINES_AUDIENCE, seconds=600
    ).stdout.strip()
    refused = run_deploy(
        kfp_api, store, tokens.file(token, "unbound-token"), namespace, workdir, schedules_file
    )
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "HTTP 403" in refused.stderr and "the token was refused" in refused.stderr, refused.stderr
    assert "uploaded " not in refused.stdout


def test_the_store_never_replaces_an_immutable_object(store: ObjectStore) -> None:
    """The in-cluster store honours create-if-absent writes, as model versions and records need."""
    from components.shared.errors import ObjectExistsError
    from components.shared.store import S3Store

    probe = S3Store(h.BUCKET, f"{store.prefix}/probe", client=store.client())
    probe.write("immutable.json", b"first", overwrite=False)
    with pytest.raises(ObjectExistsError):
        probe.write("immutable.json", b"second", overwrite=False)
    assert probe.read("immutable.json") == b"first"


def test_training_stores_a_model_version_and_a_metrics_record(
    training_run: TrainingRun, store: ObjectStore
) -> None:
    """The deployed training pipeline ran on the cluster; read back what it wrote through the S3 API."""
    run_id, model = training_run.run.run_id, training_run.model_name
    records = [store.read_json(k) for k in store.keys("metrics/training/runs") if k.endswith(".json")]
    mine = [r for r in records if r.get("run_id") == run_id]
    assert len(mine) == 1, f"{len(mine)} metrics records of run {run_id} among {len(records)}"
    record = mine[0]
    assert record["pipeline"] == "training"
    assert record["model_name"] == model
    assert 0.9 <= record["metrics"]["accuracy"] <= 1.0, record["metrics"]
    assert record["model_uri"].startswith(f"{store.uri}/models/{model}/"), record["model_uri"]

    version = record["model_version"]
    keys = store.keys(f"models/{model}/{version}")
    assert {f"models/{model}/{version}/model.joblib", f"models/{model}/{version}/metadata.json"} <= set(
        keys
    ), keys
    assert store.read_json(f"models/{model}/{version}/metadata.json")["run_id"] == run_id
    assert len(store.read(f"models/{model}/{version}/model.joblib")) > 1000
    assert (
        store.read_json(f"models/{model}/champion.json")["version"] == version
    )  # the first model is promoted


def test_monitoring_a_drifted_window_starts_a_training_run(
    kfp_client: Any,
    kfp_api: h.PortForward,
    cluster: h.Kubectl,
    namespace: str,
    first_deploy: Deploy,
    store: ObjectStore,
    training_run: TrainingRun,
    compiled: list[Path],
) -> None:
    """The monitoring pipeline sees the champion decline on a drifted window; its trigger task,
    with the token the PodDefault mounted, starts the deployed training pipeline."""
    parameters = {
        "store": store.uri,
        "source": f"builtin://breast_cancer_drift?window={DRIFTED_WINDOW}",
        "model_name": training_run.model_name,
        "windows_below": 1,
        "window_count": 1,
        "cooldown_hours": 0.0,
    }
    specs = [p for p in compiled if p.stem == "monitoring"]
    assert specs, "no monitoring pipeline is compiled (pipelines.PIPELINES)"
    declared = set(_documents(specs[0])[0]["root"]["inputDefinitions"]["parameters"])
    assert set(parameters) <= declared, f"monitoring lacks parameters {set(parameters) - declared}"

    run = start_and_wait(
        kfp_client, cluster, namespace, first_deploy, "monitoring", parameters, forward=kfp_api, timeout=600
    )
    assert str(run.state).upper() == "SUCCEEDED", run_summary(run)

    model = training_run.model_name
    triggers = [
        store.read_json(k) for k in store.keys(f"metrics/monitoring/{model}/triggers") if k.endswith(".json")
    ]
    assert len(triggers) == 1, f"expected one recorded retraining start, found {len(triggers)}"
    trigger = triggers[0]
    assert trigger["pipeline"] == "training"
    assert trigger["parameters"]["store"] == store.uri

    started = kfp_client.get_run(trigger["run_id"])
    training_pipeline_id, _ = pipeline_ids(first_deploy, "training")
    assert started.pipeline_version_reference.pipeline_id == training_pipeline_id
    assert started.run_id != training_run.run.run_id
    assert started.created_at >= run.created_at

    workflows = cluster.json(
        "get", "workflows.argoproj.io", "-n", namespace, "-l", f"pipeline/runid={run.run_id}"
    )
    assert workflows["items"], f"no Argo workflow of monitoring run {run.run_id}"
    workflow = workflows["items"][0]["metadata"]["name"]
    pods = cluster.json(
        "get",
        "pods",
        "-n",
        namespace,
        "-l",
        f"workflows.argoproj.io/workflow={workflow},access-ml-pipeline=true",
    )["items"]
    assert pods, "no pod of the monitoring run carries the label access-ml-pipeline=true"
    for pod in pods:
        volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
        assert TOKEN_VOLUME in volumes, f"the PodDefault did not mount a token into {pod['metadata']['name']}"
        (source,) = volumes[TOKEN_VOLUME]["projected"]["sources"]
        assert source["serviceAccountToken"]["audience"] == PIPELINES_AUDIENCE
        mounts = [m["mountPath"] for c in pod["spec"]["containers"] for m in c.get("volumeMounts", [])]
        assert TOKEN_DIR in mounts


def test_a_second_deploy_uploads_nothing(
    kfp_api: h.PortForward,
    store: ObjectStore,
    tokens: Tokens,
    namespace: str,
    workdir: Path,
    schedules_file: Path,
    first_deploy: Deploy,
) -> None:
    """Re-running deploy on the same sources changes nothing on the server."""
    again = run_deploy(
        kfp_api, store, tokens.file(tokens.ci(), "ci-token-again"), namespace, workdir, schedules_file
    )
    assert again.returncode == 0, again.stdout + again.stderr
    audit = again.audit
    assert audit["uploaded"] == [], again.stdout
    first = first_deploy.audit
    assert sorted(audit["unchanged"]) == sorted(first["uploaded"] + first["unchanged"])
    assert audit["versions"] == first["versions"]
    assert not any(audit["schedules"].values()), audit["schedules"]
    assert f"0 uploaded, {len(audit['unchanged'])} unchanged" in again.stdout
