"""Fixtures of the kind suite (marker ``kind``): the cluster, KFP, the overlay, images, APIs.

Every test here skips, with the reason, unless the machine has Docker (daemon answering),
kind and kubectl, *and* the suite was asked for (``make e2e``, ``KFOPS_E2E=1`` or
``pytest -m kind``): a plain ``pytest`` never builds a cluster. Nothing outside
``tests/e2e`` imports from here.

Session flow (one cluster for all tests): create the kind cluster (or reuse
``$KFOPS_E2E_CLUSTER``) → apply KFP's cluster-scoped resources and cert-manager → apply
KFP (multi-user) → build the component images with ``kfops images build`` and
``kind load`` them while KFP starts → PodDefault webhook → the profile namespace (the
repository's kind overlay plus ``cluster/profile``) → port-forwards to the KFP API and
the store. On a failed test the logs of failed pods are attached to the report and
written to ``$KFOPS_E2E_LOG_DIR`` (default ``build/e2e-logs``).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from components.images import DEFAULT_REGISTRY, image
from components.shared.names import CI_SERVICE_ACCOUNT
from kfops.images.plan import components_of_pipelines
from tests.e2e import harness as h

#: The pipelines the suite runs on the cluster (their images are built and loaded; the others
#: are deployed only).
RUN_PIPELINES = ("training", "monitoring")

E2E_DIR = Path(__file__).resolve().parent
KFOPS = [sys.executable, "-m", "kfops"]
DEPLOYER = "kfops-e2e-deployer"  # the user the suite impersonates, in the deployers group
_REASON_KEY = pytest.StashKey[str]()
_ACTIVE: dict[str, Any] = {}  # the session's Kubectl and log directory, for the report hook


def _requested(config: pytest.Config) -> bool:
    markexpr = (config.getoption("markexpr", "") or "").strip()
    return os.environ.get(h.ENV_OPT_IN) in ("1", "required") or markexpr == "kind"


def skip_reason(config: pytest.Config) -> str:
    """Why the suite cannot or should not run here ("" when it runs).

    Raises:
        pytest.UsageError: ``KFOPS_E2E=required`` (CI) and the machine cannot run it: a
            workflow must not go green on a suite that skipped.
    """
    missing = h.missing_prerequisites()
    if missing:
        reason = "kind e2e suite needs Docker, kind and kubectl: " + "; ".join(missing)
        if os.environ.get(h.ENV_OPT_IN) == "required":
            raise pytest.UsageError(f"{h.ENV_OPT_IN}=required, but the {reason}")
        return reason
    if not _requested(config):
        return (
            f"kind e2e suite not requested (it creates a cluster): run `make e2e`, "
            f"`{h.ENV_OPT_IN}=1 pytest tests/e2e` or `pytest -m kind`"
        )
    return ""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of this directory ``kind``; skip them all (with the reason) when they cannot run."""
    ours = [item for item in items if E2E_DIR in Path(str(item.path)).resolve().parents]
    if not ours:
        return
    if _REASON_KEY not in config.stash:
        config.stash[_REASON_KEY] = skip_reason(config)
    reason = config.stash[_REASON_KEY]
    for item in ours:
        item.add_marker(pytest.mark.kind)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failure (setup or test), attach the logs of failed pods to the report and write them out."""
    report: pytest.TestReport = yield
    kubectl = _ACTIVE.get("kubectl")
    if report.failed and kubectl is not None and E2E_DIR in Path(str(item.path)).resolve().parents:
        text = h.diagnostics(kubectl, [h.KFP_NAMESPACE, _ACTIVE["namespace"]])
        report.sections.append(("kind: failed pods and warning events", text))
        log_dir: Path = _ACTIVE["log_dir"]
        log_dir.mkdir(parents=True, exist_ok=True)
        (log_dir / f"{h.safe_name(item.nodeid)}-{report.when}.txt").write_text(text)
        _ACTIVE["failed"] = True
    return report


# --- settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What this session runs against (from the environment)."""

    cluster: str
    reuse: bool
    keep: bool
    node_image: str
    image_cache: str
    log_dir: Path
    session: str = field(default_factory=lambda: uuid.uuid4().hex[:8])


@pytest.fixture(scope="session")
def settings() -> Settings:
    reused = os.environ.get(h.ENV_CLUSTER, "")
    return Settings(
        cluster=reused or h.DEFAULT_CLUSTER,
        reuse=bool(reused),
        keep=os.environ.get(h.ENV_KEEP) == "1",
        node_image=os.environ.get(h.ENV_NODE_IMAGE) or h.NODE_IMAGE,
        image_cache=os.environ.get(h.ENV_IMAGE_CACHE, ""),
        log_dir=Path(os.environ.get(h.ENV_LOG_DIR) or h.REPO / "build" / "e2e-logs"),
    )


@pytest.fixture(scope="session")
def namespace() -> str:
    """The profile namespace of the repository's kind overlay."""
    from kfops.manifests import EXAMPLE_NAMESPACE

    return EXAMPLE_NAMESPACE


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kind-e2e")


@pytest.fixture(scope="session")
def compiled(workdir: Path) -> list[Path]:
    """Every pipeline compiled once, as ``kfops deploy`` will compile them (same image tags)."""
    directory = workdir / "pipelines"
    result = h.run([*KFOPS, "compile", "--output-dir", str(directory)], timeout=600, env=kfops_env({}))
    paths = sorted(directory.glob("*.yaml"))
    assert paths, f"kfops compile wrote nothing:\n{result.stdout}\n{result.stderr}"
    return paths


def kfops_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment of a ``kfops`` subprocess: no registry (images are kfops.local/...), no
    ambient AWS profile, plus ``extra`` (the store's endpoint and keys)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "KFOPS_IMAGE_REGISTRY",
            "KFOPS_STORE",
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_S3",
            "KF_PIPELINES_SA_TOKEN_PATH",
        }
    }
    return {**env, **extra}


# --- cluster and platform -----------------------------------------------------------------


@pytest.fixture(scope="session")
def cluster(settings: Settings, namespace: str) -> Iterator[h.Kubectl]:
    """The kind cluster: created (and deleted afterwards unless kept) or reused as is."""
    created = False
    if settings.reuse:
        if not h.cluster_exists(settings.cluster):
            pytest.fail(
                f"{h.ENV_CLUSTER}={settings.cluster}: no kind cluster of that name (`kind get clusters`)"
            )
    else:
        if h.cluster_exists(settings.cluster):
            pytest.fail(
                f"a kind cluster named {settings.cluster} already exists: reuse it with "
                f"{h.ENV_CLUSTER}={settings.cluster}, or delete it "
                f"(`kind delete cluster --name {settings.cluster}`)"
            )
        h.create_cluster(settings.cluster, settings.node_image)
        created = True
    kubectl = h.Kubectl(settings.cluster)
    _ACTIVE.update(kubectl=kubectl, namespace=namespace, log_dir=settings.log_dir)
    try:
        yield kubectl
    finally:
        if _ACTIVE.get("failed"):
            h.export_kind_logs(settings.cluster, settings.log_dir)
        _ACTIVE.pop("kubectl", None)
        if created and not settings.keep:
            h.delete_cluster(settings.cluster)
        elif created:
            print(
                f"\nkept kind cluster {settings.cluster} ({h.ENV_KEEP}=1): reuse it with "
                f"{h.ENV_CLUSTER}={settings.cluster}; delete it with "
                f"`kind delete cluster --name {settings.cluster}`"
            )


@dataclass(frozen=True)
class Platform:
    """What the session installed."""

    images: list[str]


@pytest.fixture(scope="session")
def platform(compiled: list[Path], cluster: h.Kubectl, settings: Settings, namespace: str) -> Platform:
    """KFP 2.17 (multi-user), the PodDefault webhook, the profile namespace, and the images in the node."""
    cluster.apply_kustomization(h.CLUSTER_DIR / "kfp-cluster-scoped")
    cluster.apply_kustomization(h.CLUSTER_DIR / "cert-manager")
    cluster.wait_crds()
    cluster.apply_kustomization(h.CLUSTER_DIR / "kfp")

    # Build while KFP's images are pulled: the same command CI and developers run, the same tags,
    # only the images of the pipelines the suite runs, three at once. CI builds them before the
    # cluster exists (and runs training on them with `kfops run --runner docker`): then nothing
    # is left to build here.
    h.disk_report("before the image build", settings.log_dir)
    images = sorted(image(c) for c in components_of_pipelines(list(RUN_PIPELINES)))
    if h.local_images_missing(images):
        build = [*KFOPS, "images", "build", "--pipelines", ",".join(RUN_PIPELINES), "--jobs", "3"]
        try:
            h.run(
                build + (["--cache", settings.image_cache] if settings.image_cache else []),
                timeout=h.BUILD_TIMEOUT,
                env=kfops_env({}),
            )
        except h.CommandError:
            if not settings.image_cache:
                raise
            # An unavailable layer cache is not a test failure: build without it.
            h.run(build, timeout=h.BUILD_TIMEOUT, env=kfops_env({}))
        h.disk_report("after the image build", settings.log_dir)
    referenced = set().union(*(_images_of(path) for path in compiled if path.stem in RUN_PIPELINES))
    assert referenced <= set(images), (
        f"pipelines reference images kfops does not build: {referenced - set(images)}"
    )
    h.load_images(settings.cluster, images)
    h.disk_report("after kind load", settings.log_dir)
    if os.environ.get(h.ENV_PRUNE) == "1":
        h.prune_host_images(images)
        h.disk_report("after removing the host's copies", settings.log_dir)

    cluster.wait_available("cert-manager", h.CERT_MANAGER_DEPLOYMENTS, timeout=600)
    cluster.apply_kustomization(h.CLUSTER_DIR / "poddefaults")  # retried while cert-manager's webhook starts
    cluster.wait_crds()
    cluster.wait_available(h.KFP_NAMESPACE, (*h.KFP_DEPLOYMENTS, h.WEBHOOK_DEPLOYMENT), timeout=600)

    cluster.apply_kustomization(h.CLUSTER_DIR / "profile")
    _copy_store_secret(cluster, namespace)
    _wait_for_poddefault_webhook(cluster, namespace)

    cpu, memory, task = h.largest_task_request(compiled)
    free_cpu, free_memory = h.node_headroom(cluster)
    if cpu > free_cpu or memory > free_memory:
        pytest.fail(
            f"the node cannot schedule {task} (requests {cpu:g} CPU, {memory / 2**30:.1f} GiB): "
            f"{free_cpu:.2f} CPU and {free_memory / 2**30:.1f} GiB are free after KFP; give Docker more "
            "(at least 4 CPUs and 8 GiB) or use a 4-CPU runner"
        )
    h.disk_report("KFP ready", settings.log_dir)
    return Platform(images=images)


def _images_of(path: Path) -> set[str]:
    import yaml

    spec = next(d for d in yaml.safe_load_all(path.read_text()) if d)
    executors = spec.get("deploymentSpec", {}).get("executors", {})
    return {e["container"]["image"] for e in executors.values() if "container" in e}


def _copy_store_secret(kubectl: h.Kubectl, namespace: str) -> None:
    """The profile namespace's store keys (Kubeflow's pipelines profile controller writes them there)."""
    source = kubectl.json("get", "secret", "-n", h.KFP_NAMESPACE, h.STORE_SECRET)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": source.get("type", "Opaque"),
        "metadata": {
            "name": h.STORE_SECRET,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "kfops-e2e"},
        },
        "data": source["data"],
    }
    kubectl.apply(json.dumps(secret), f"secret {namespace}/{h.STORE_SECRET}")


def _wait_for_poddefault_webhook(kubectl: h.Kubectl, namespace: str) -> None:
    """Until a pod labelled for KFP access is admitted with the token volume (server-side dry run)."""
    from components.shared.names import PIPELINES_AUDIENCE

    def mutated() -> bool:
        result = kubectl(
            "run",
            "kfops-e2e-probe",
            "-n",
            namespace,
            "--image=registry.k8s.io/pause:3.10",
            "--labels=access-ml-pipeline=true",
            "--restart=Never",
            "--dry-run=server",
            "-o",
            "json",
            check=False,
        )
        if result.returncode != 0:
            return False
        volumes = json.loads(result.stdout)["spec"].get("volumes", [])
        return any(
            source.get("serviceAccountToken", {}).get("audience") == PIPELINES_AUDIENCE
            for volume in volumes
            for source in volume.get("projected", {}).get("sources", [])
        )

    h.wait_until(
        "the PodDefault webhook mutates pods in the profile namespace", mutated, timeout=300, interval=5
    )


# --- APIs ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def kfp_api(cluster: h.Kubectl, platform: Platform) -> Iterator[h.PortForward]:
    """``kubectl port-forward`` to the KFP API (``ml-pipeline:8888``): the host ``kfops deploy`` gets."""
    forward = h.PortForward(cluster, h.KFP_NAMESPACE, "ml-pipeline", 8888)
    try:
        forward.ensure()
        yield forward
    finally:
        forward.stop()


@dataclass
class ObjectStore:
    """The in-cluster store through a port-forward: boto3 client and the session's store URI."""

    forward: h.PortForward
    access_key: str
    secret_key: str
    prefix: str
    region: str = "eu-west-1"
    _client: Any = None

    @property
    def uri(self) -> str:
        return f"s3://{h.BUCKET}/{self.prefix}"

    def env(self) -> dict[str, str]:
        """boto3's environment for a ``kfops`` subprocess (the same variables the pods get)."""
        url = self.forward.ensure()
        return {
            "AWS_ENDPOINT_URL": url,
            "AWS_ENDPOINT_URL_S3": url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        self.forward.ensure()
        if self._client is None:
            self._client = boto3.client(
                "s3",
                endpoint_url=self.forward.url,
                aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key,
                region_name=self.region,
                config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 4}),
            )
        return self._client

    def keys(self, under: str) -> list[str]:
        """Keys below ``<store>/<under>/``, relative to the store root."""
        start = f"{self.prefix}/{under.strip('/')}/"
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=h.BUCKET, Prefix=start)
        return sorted(
            obj["Key"][len(self.prefix) + 1 :] for page in pages for obj in page.get("Contents", [])
        )

    def read(self, key: str) -> bytes:
        return bytes(self.client().get_object(Bucket=h.BUCKET, Key=f"{self.prefix}/{key}")["Body"].read())

    def read_json(self, key: str) -> Any:
        return json.loads(self.read(key))


@pytest.fixture(scope="session")
def store(cluster: h.Kubectl, platform: Platform, settings: Settings) -> Iterator[ObjectStore]:
    """The session's store, ``s3://mlpipeline/kfops-e2e/<session>`` in the in-cluster store."""
    keys = cluster.secret_data(h.KFP_NAMESPACE, h.STORE_SECRET)
    forward = h.PortForward(cluster, h.KFP_NAMESPACE, "seaweedfs", 8333)
    try:
        forward.ensure()
        yield ObjectStore(forward, keys["accesskey"], keys["secretkey"], f"kfops-e2e/{settings.session}")
    finally:
        forward.stop()


@dataclass(frozen=True)
class Tokens:
    """ServiceAccount tokens for the KFP API, minted the way production mints them."""

    kubectl: h.Kubectl
    namespace: str
    workdir: Path

    def ci(self, seconds: int | None = None) -> str:
        """A token of the CI ServiceAccount, requested as a member of the deployers group (the
        identity ``--token-from-eks`` maps the deploy role to), so the overlay's token-minter
        Role is what allows it; audience and lifetime as ``kfops.auth`` requests them."""
        from components.shared.names import DEPLOYERS_GROUP, PIPELINES_AUDIENCE
        from kfops.auth import EXPIRATION_SECONDS

        return self.kubectl.create_token(
            self.namespace,
            CI_SERVICE_ACCOUNT,
            audience=PIPELINES_AUDIENCE,
            seconds=seconds or EXPIRATION_SECONDS,
            as_user=DEPLOYER,
            as_groups=(DEPLOYERS_GROUP,),
        ).stdout.strip()

    def file(self, token: str, name: str) -> Path:
        path = self.workdir / name
        path.write_text(token)
        path.chmod(0o600)
        return path


@pytest.fixture(scope="session")
def tokens(cluster: h.Kubectl, platform: Platform, namespace: str, workdir: Path) -> Tokens:
    return Tokens(cluster, namespace, workdir)


@pytest.fixture(scope="session")
def schedules_file(workdir: Path, store: ObjectStore) -> Path:
    """One disabled recurring run: deploy reconciles it, nothing fires during the session."""
    path = workdir / "schedules.yaml"
    path.write_text(
        "experiment: kfops-e2e\n"
        "schedules:\n"
        "  - name: training-e2e\n"
        "    pipeline: training\n"
        '    cron: "0 0 3 * * 1"\n'
        "    enabled: false\n"
        "    parameters:\n"
        f"      store: {store.uri}\n"
    )
    return path


@dataclass(frozen=True)
class Deploy:
    """One ``kfops deploy`` run: its output and the audit record it wrote."""

    returncode: int
    stdout: str
    stderr: str
    audit: dict[str, Any]


def run_deploy(
    kfp_api: h.PortForward,
    store: ObjectStore,
    token_file: Path,
    namespace: str,
    workdir: Path,
    schedules_file: Path,
) -> Deploy:
    """``kfops deploy`` against the port-forwarded API with a ServiceAccount token, as CI runs it."""
    import re

    result = h.run(
        [
            *KFOPS,
            "deploy",
            "--host",
            kfp_api.ensure(),
            "--namespace",
            namespace,
            "--token-file",
            str(token_file),
            "--pipelines-dir",
            str(workdir / "deployed"),
            "--schedules",
            str(schedules_file),
            "--store",
            store.uri,
        ],
        timeout=900,
        env=kfops_env(store.env()),
        check=False,
    )
    audit: dict[str, Any] = {}
    found = re.search(r"audit record (s3://\S+)\s*$", result.stdout)
    if result.returncode == 0 and found:
        key = found.group(1).removeprefix(f"{store.uri}/")
        audit = store.read_json(key)
    return Deploy(result.returncode, result.stdout, result.stderr, audit)


@pytest.fixture(scope="session")
def first_deploy(
    kfp_api: h.PortForward,
    store: ObjectStore,
    tokens: Tokens,
    namespace: str,
    workdir: Path,
    schedules_file: Path,
) -> Deploy:
    deploy = run_deploy(
        kfp_api, store, tokens.file(tokens.ci(), "ci-token"), namespace, workdir, schedules_file
    )
    assert deploy.returncode == 0, f"kfops deploy failed:\n{deploy.stdout}\n{deploy.stderr}"
    assert deploy.audit, f"kfops deploy printed no audit record:\n{deploy.stdout}"
    return deploy


@pytest.fixture(scope="session")
def kfp_client(kfp_api: h.PortForward, tokens: Tokens, namespace: str, first_deploy: Deploy) -> Any:
    """kfops' one KFP API client (``components.kfp_api``, as deploy and the retrain trigger use it)
    with the CI ServiceAccount's token (1 hour: runs outlast 10 minutes)."""
    from components.kfp_api import KfpApi

    return KfpApi(kfp_api.ensure(), tokens.ci(seconds=3600), namespace)


def pipeline_ids(deploy: Deploy, name: str) -> tuple[str, str]:
    """``(pipeline_id, version_id)`` of a deployed pipeline, from the audit record."""
    versions = deploy.audit.get("versions", {})
    assert name in versions, f"pipeline {name!r} was not deployed; deployed: {sorted(versions)}"
    pipeline_id, version_id = versions[name]
    return str(pipeline_id), str(version_id)


TERMINAL = {"SUCCEEDED", "FAILED", "SKIPPED", "CANCELED", "CANCELLED"}


def start_and_wait(
    client: Any,
    cluster: h.Kubectl,
    namespace: str,
    deploy: Deploy,
    pipeline: str,
    parameters: dict[str, Any],
    *,
    forward: h.PortForward,
    timeout: float = h.RUN_TIMEOUT,
) -> Any:
    """Run the deployed version of ``pipeline`` and wait for a final state (failing fast on pods
    that can never start, e.g. an image the node does not have).

    The whole run is polled through ``forward`` (the port-forward to the KFP API): it is
    re-established in the loop when it died or a poll fails, so one broken stream does not
    fail a run that is fine on the cluster."""
    import time

    from kfp_server_api import V2beta1PipelineVersionReference, V2beta1Run, V2beta1RuntimeConfig

    pipeline_id, version_id = pipeline_ids(deploy, pipeline)
    run = client.create_run(
        V2beta1Run(
            display_name=f"e2e-{pipeline}-{uuid.uuid4().hex[:6]}",
            experiment_id=client.experiment("kfops-e2e").experiment_id,
            pipeline_version_reference=V2beta1PipelineVersionReference(
                pipeline_id=pipeline_id, pipeline_version_id=version_id
            ),
            runtime_config=V2beta1RuntimeConfig(parameters=parameters),
        )
    )
    deadline = time.monotonic() + h.within_deadline(timeout)
    failures = 0
    while True:
        try:
            forward.ensure()
            current = client.get_run(run.run_id)
        except Exception as exc:  # a broken forward surfaces as any connection error of the client
            failures += 1
            if failures > 5 or time.monotonic() > deadline:
                pytest.fail(f"{pipeline} run {run.run_id}: the KFP API stays unreachable: {exc}")
            print(f"polling {pipeline} run {run.run_id} failed ({exc}); re-establishing the port-forward")
            forward.restart()
            continue
        failures = 0
        state = str(current.state or "").upper()
        if state in TERMINAL:
            return current
        stuck = h.hopeless_pods(cluster, namespace, DEFAULT_REGISTRY)
        if stuck:
            pytest.fail(f"{pipeline} run {run.run_id} cannot progress: " + "; ".join(stuck))
        if time.monotonic() > deadline:
            pytest.fail(f"{pipeline} run {run.run_id} still {state or 'pending'} after {timeout:.0f}s")
        time.sleep(10)


def run_summary(run: Any) -> str:
    """State and failed tasks of a run, for assertion messages."""
    details = getattr(run, "run_details", None)
    tasks = getattr(details, "task_details", None) or []
    failed = [
        f"{t.display_name}: {t.state} {getattr(t, 'error', '') or ''}"
        for t in tasks
        if t.state != "SUCCEEDED"
    ]
    error = getattr(run, "error", None)
    return f"run {run.run_id} {run.state}; error: {error}; tasks not succeeded: {failed}"


@dataclass(frozen=True)
class TrainingRun:
    run: Any
    model_name: str


@pytest.fixture(scope="session")
def training_run(
    kfp_client: Any,
    kfp_api: h.PortForward,
    cluster: h.Kubectl,
    namespace: str,
    first_deploy: Deploy,
    store: ObjectStore,
) -> TrainingRun:
    """The deployed training pipeline run to completion on the session's store (asked to promote,
    as the scheduled runs are, its model becomes the first champion)."""
    model_name = "breast-cancer"
    run = start_and_wait(
        kfp_client,
        cluster,
        namespace,
        first_deploy,
        "training",
        {"store": store.uri, "model_name": model_name, "promote": True},
        forward=kfp_api,
    )
    assert str(run.state).upper() == "SUCCEEDED", run_summary(run)
    return TrainingRun(run, model_name)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Say where the failed pods' logs went, if any were written."""
    if _ACTIVE.get("failed"):
        print(f"\nkind e2e: logs of failed pods are in {_ACTIVE.get('log_dir')}")
