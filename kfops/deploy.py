"""``kfops deploy``: upload compiled pipelines as content-addressed versions, idempotently.

A version's name is ``<pipeline>-<sha256 of the compiled YAML, 12 hex>``; the YAML
embeds the content-hash image tags, so the same sources give the same name on a
PR and after merge. A version that exists is never uploaded again: a second deploy
of the same commit makes no upload. A new pipeline is created together with its
first, named version (``POST /pipelines/create``), so no unnamed default version
exists. Every call has a timeout; 5xx, connection errors and timeouts are retried
with exponential backoff within a bounded budget; 401/403 stop at once with what
to check. Each deploy appends an audit record to the metrics store.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml

from components.shared.errors import InputError, KfopsError
from components.shared.kfp_timeout import impose_timeout
from components.shared.store import LAYOUT, open_store

T = TypeVar("T")

TOKEN_PATH_ENV = "KF_PIPELINES_SA_TOKEN_PATH"
TIMEOUT = (5.0, 60.0)  # connect, read (kfp.Client sets none)
ATTEMPTS = 5
BACKOFF_SECONDS = 0.5  # 0.5, 1, 2, 4 s between attempts
SUPPORTED_MAJOR = 2  # KFP backends the SDK (kfp 2.17) supports: 2.x
DEPLOYS = "deploys"


class DeployError(KfopsError):
    """The KFP API refused or failed a request."""


@dataclass
class DeployResult:
    """What a deploy did.

    Attributes:
        uploaded: ``pipeline@version`` created by this deploy.
        unchanged: ``pipeline@version`` that already existed.
        audit_uri: Where the audit record went ("" on a dry run).
    """

    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    schedules: dict[str, list[str]] = field(default_factory=dict)
    audit_uri: str = ""
    versions: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)


def version_name(pipeline: str, spec: bytes) -> str:
    """The content-addressed version name of a compiled pipeline."""
    return f"{pipeline}-{hashlib.sha256(spec).hexdigest()[:12]}"


def read_token(token_file: Path | None) -> str:
    """The bearer token from ``--token-file`` or ``$KF_PIPELINES_SA_TOKEN_PATH``.

    Raises:
        InputError: No token source, or an unreadable or empty file.
    """
    path = token_file or (Path(os.environ[TOKEN_PATH_ENV]) if os.environ.get(TOKEN_PATH_ENV) else None)
    if path is None:
        raise InputError(f"no token: give --token-file, set {TOKEN_PATH_ENV}, or use --token-from-eks")
    try:
        token = path.read_text().strip()
    except OSError as exc:
        raise InputError(f"cannot read token file {path}: {exc.strerror}") from None
    if not token:
        raise InputError(f"token file {path} is empty")
    return token


def _status(exc: Exception) -> int | None:
    return getattr(exc, "status", None)


def with_retries(what: str, call: Callable[..., T], *args: Any, profile: str = "", **kwargs: Any) -> T:
    """Run ``call``, retrying 5xx, connection errors and timeouts with backoff.

    Raises:
        DeployError: 401/403 (at once, saying what to check), another 4xx, or the
            retries are used up.
    """
    import urllib3
    from kfp_server_api.exceptions import ApiException

    delay = BACKOFF_SECONDS
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return call(*args, **kwargs)
        except ApiException as exc:
            status = exc.status
            if status in (401, 403):
                raise DeployError(
                    f"the KFP API refused the token ({status}) while trying to {what}: check that it is "
                    "unexpired, has audience pipelines.kubeflow.org, and that its ServiceAccount is bound to "
                    f"kubeflow-pipelines-edit in namespace {profile or '(none given)'}"
                ) from None
            if status is not None and status < 500:
                reason = " ".join(str(exc.body or exc.reason).split())[:300]
                raise DeployError(f"cannot {what}: HTTP {status}: {reason}") from None
            problem = f"HTTP {status}"
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            problem = " ".join(str(exc).split())[:160] or type(exc).__name__
        if attempt == ATTEMPTS:
            raise DeployError(f"cannot {what}: {problem} after {ATTEMPTS} attempts") from None
        time.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")


def check_server(host: str, namespace: str) -> str:
    """Check the KFP backend answers and is a supported version; return its version."""
    import urllib3

    def get() -> Any:
        response = urllib3.request(
            "GET",
            f"{host.rstrip('/')}/apis/v1beta1/healthz",
            timeout=urllib3.Timeout(connect=TIMEOUT[0], read=TIMEOUT[1]),
            retries=False,
        )
        if response.status >= 500:
            raise urllib3.exceptions.HTTPError(f"HTTP {response.status}")
        return response

    response = with_retries("reach the KFP API", get, profile=namespace)
    try:
        version = str(json.loads(response.data).get("tag_name", ""))
    except (json.JSONDecodeError, AttributeError):
        version = ""
    major = version.lstrip("v").split(".")[0]
    if major.isdigit() and int(major) != SUPPORTED_MAJOR:
        raise DeployError(
            f"KFP backend {version} is not supported by this SDK (kfp 2.17 needs a 2.x backend)"
        )
    return version or "unknown"


PAGE_SIZE = 200  # the API pages every list; follow next_page_token to the end
MAX_PAGES = 1000  # a server that never stops paging is a bug, not a big namespace


def list_all(
    what: str, call: Callable[..., Any], field: str, *args: Any, profile: str = "", **kwargs: Any
) -> list[Any]:
    """Every item of a paged v2beta1 list call (each page retried like any call).

    Args:
        what: What is listed, for error messages.
        call: The ``kfp_server_api`` list method.
        field: Attribute of the response holding the items (e.g. ``recurring_runs``).
        *args: Positional arguments of ``call``.
        profile: Namespace, for the 403 hint.
        **kwargs: Keyword arguments of ``call`` (filters, sorting).

    Raises:
        DeployError: The server kept returning pages past ``MAX_PAGES``.
    """
    items: list[Any] = []
    token = ""
    for _ in range(MAX_PAGES):
        page = with_retries(
            what, call, *args, page_size=PAGE_SIZE, page_token=token, profile=profile, **kwargs
        )
        items += getattr(page, field) or []
        token = page.next_page_token or ""
        if not token:
            return items
    raise DeployError(f"cannot {what}: more than {MAX_PAGES} pages")


def make_client(host: str, token: str, namespace: str) -> Any:
    """A ``kfp.Client`` whose every request has a timeout."""
    import kfp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        client = kfp.Client(host=host, existing_token=token, namespace=namespace or "kubeflow")
    return impose_timeout(client, TIMEOUT)


def api_spec(spec_bytes: bytes) -> dict[str, Any]:
    """A compiled pipeline file as the API's ``pipeline_spec`` field takes it.

    A pipeline with Kubernetes settings (e.g. a pod label) compiles to two YAML
    documents; the API then takes ``{"pipeline_spec": ..., "platform_spec": ...}``,
    as ``kfp.Client`` sends it.
    """
    documents = [d for d in yaml.safe_load_all(spec_bytes) if d]
    if len(documents) == 1:
        return dict(documents[0])
    return {"pipeline_spec": documents[0], "platform_spec": documents[1]}


def referenced_images(spec: dict[str, Any]) -> set[str]:
    """Every container image a compiled pipeline references."""
    spec = spec.get("pipeline_spec", spec)
    executors = spec.get("deploymentSpec", {}).get("executors", {})
    return {e["container"]["image"] for e in executors.values() if "container" in e}


def verify_images(images: set[str]) -> None:
    """Refuse to deploy pipelines whose ECR images do not exist (naming the first missing one).

    Images outside ECR (e.g. the local placeholder registry used with kind, where
    images are loaded into the cluster directly) are not checked.

    Raises:
        DeployError: An image tag is missing from its ECR repository.
    """
    from kfops.images import ecr_image_exists, is_ecr

    for reference in sorted(images):
        host, _, rest = reference.partition("/")
        if not is_ecr(host):
            continue
        repository, _, tag = rest.rpartition(":")
        try:
            found = ecr_image_exists(host, repository, tag)
        except InputError:  # the repository itself is missing
            found = False
        except KfopsError as exc:
            raise DeployError(f"cannot check image {reference}: {exc}") from None
        if not found:
            raise DeployError(
                f"image {reference} is not in the registry; "
                "build and push it first (kfops images build --push)"
            )


def find_pipeline_id(api: Any, name: str, namespace: str) -> str | None:
    """The id of the pipeline whose display name is ``name``, if it exists."""
    listing = with_retries(
        f"find pipeline {name}",
        api.pipeline_service_list_pipelines,
        filter=_filter(name),
        namespace=namespace or None,
        profile=namespace,
    )
    return str(listing.pipelines[0].pipeline_id) if listing.pipelines else None


def find_version_id(api: Any, pipeline_id: str, version: str, namespace: str) -> str | None:
    """The id of the pipeline's version named ``version``, if it exists."""
    listing = with_retries(
        f"list versions of pipeline {pipeline_id}",
        api.pipeline_service_list_pipeline_versions,
        pipeline_id,
        filter=_filter(version),
        profile=namespace,
    )
    return str(listing.pipeline_versions[0].pipeline_version_id) if listing.pipeline_versions else None


def _filter(name: str) -> str:
    return json.dumps({"predicates": [{"operation": "EQUALS", "key": "display_name", "stringValue": name}]})


def deploy(
    host: str,
    token: str,
    pipelines_dir: Path,
    *,
    namespace: str = "",
    store: str = "",
    commit: str = "",
    actor: str = "",
    dry_run: bool = False,
    schedules_file: Path | None = None,
) -> DeployResult:
    """Upload every compiled pipeline in ``pipelines_dir`` that is not deployed yet.

    Raises:
        InputError: No compiled pipelines.
        DeployError: The API refused a request or stayed unreachable.
    """
    from kfp_server_api import V2beta1CreatePipelineAndVersionRequest, V2beta1Pipeline, V2beta1PipelineVersion

    files = sorted(pipelines_dir.glob("*.yaml"))
    if not files:
        raise InputError(f"no compiled pipelines in {pipelines_dir} (run `kfops compile`)")
    verify_images(set().union(*(referenced_images(api_spec(p.read_bytes())) for p in files)))
    declared = None
    if schedules_file is not None:
        from kfops.schedules import load_schedules

        declared = load_schedules(schedules_file, {p.stem for p in files})  # fail before any request
    check_server(host, namespace)
    client = make_client(host, token, namespace)
    api = client._pipelines_api
    description = json.dumps(
        {
            "kfops": True,
            "commit": commit,
            "actor": actor,
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        sort_keys=True,
    )
    result = DeployResult()
    for path in files:
        spec_bytes = path.read_bytes()
        name = path.stem
        version = version_name(name, spec_bytes)
        label = f"{name}@{version}"
        pipeline_id = find_pipeline_id(api, name, namespace)
        version_id = find_version_id(api, pipeline_id, version, namespace) if pipeline_id else None
        if version_id:
            result.unchanged.append(label)
            result.versions[name] = (str(pipeline_id), version_id)
            continue
        if dry_run:
            result.uploaded.append(label)
            result.versions[name] = (pipeline_id or "", f"(new) {version}")
            continue
        body_version = V2beta1PipelineVersion(
            display_name=version, description=description, pipeline_spec=api_spec(spec_bytes)
        )
        try:
            if pipeline_id:
                with_retries(
                    f"upload {label}",
                    api.pipeline_service_create_pipeline_version,
                    pipeline_id,
                    body_version,
                    profile=namespace,
                )
            else:
                request = V2beta1CreatePipelineAndVersionRequest(
                    pipeline=V2beta1Pipeline(
                        display_name=name, description=f"kfops pipeline {name}", namespace=namespace or None
                    ),
                    pipeline_version=body_version,
                )
                with_retries(
                    f"create pipeline {label}",
                    api.pipeline_service_create_pipeline_and_version,
                    request,
                    profile=namespace,
                )
        except DeployError as exc:
            # An earlier attempt may have succeeded before its response was lost: converge.
            if "HTTP 409" not in str(exc):
                raise
            result.unchanged.append(label)
        else:
            result.uploaded.append(label)
        pipeline_id = find_pipeline_id(api, name, namespace)
        version_id = find_version_id(api, pipeline_id, version, namespace) if pipeline_id else None
        if not pipeline_id or not version_id:
            raise DeployError(f"{label} was uploaded but the API does not list it")
        result.versions[name] = (pipeline_id, version_id)
    if declared is not None:
        experiment, schedules = declared
        result.schedules = reconcile_schedules(
            client, experiment, schedules, result.versions, namespace, dry_run=dry_run
        )
    if not dry_run and store:
        result.audit_uri = _audit(store, host, namespace, commit, actor, result)
    return result


def _experiment_id(client: Any, name: str, namespace: str) -> str:
    from kfp_server_api import V2beta1Experiment

    api = client._experiment_api
    found = with_retries(
        f"find experiment {name}",
        api.experiment_service_list_experiments,
        filter=_filter(name),
        namespace=namespace or None,
        profile=namespace,
    )
    if found.experiments:
        return str(found.experiments[0].experiment_id)
    created = with_retries(
        f"create experiment {name}",
        api.experiment_service_create_experiment,
        V2beta1Experiment(display_name=name, namespace=namespace or None),
        profile=namespace,
    )
    return str(created.experiment_id)


def reconcile_schedules(
    client: Any,
    experiment: str,
    schedules: list[Any],
    versions: dict[str, tuple[str, str]],
    namespace: str,
    *,
    dry_run: bool = False,
    only: str | None = None,
) -> dict[str, list[str]]:
    """Make the managed recurring runs match the declared schedules; return what changed.

    Replacement order keeps one run enabled at any moment: create the new one
    disabled, disable the old, enable the new, delete the old. With ``only``, runs of
    other pipelines are left as they are (used by rollback).
    """
    from kfp_server_api import (
        V2beta1CronSchedule,
        V2beta1PipelineVersionReference,
        V2beta1RecurringRun,
        V2beta1RuntimeConfig,
        V2beta1Trigger,
    )

    from kfops.schedules import PREFIX, ExistingRun, managed, plan

    api = client._recurring_run_api
    experiment_id = _experiment_id(client, experiment, namespace) if not dry_run else ""
    listed = (
        list_all(
            "list recurring runs",
            api.recurring_run_service_list_recurring_runs,
            "recurring_runs",
            experiment_id=experiment_id or None,
            namespace=namespace or None,
            profile=namespace,
        )
        if experiment_id
        else []
    )
    existing = []
    for run in listed:
        facts = managed(run.display_name or "", run.description)
        if facts and only and json.loads(run.description or "{}").get("pipeline") != only:
            continue
        if facts:
            existing.append(ExistingRun(run.recurring_run_id, facts[0], facts[1], str(run.mode) == "ENABLE"))
    desired = [(s, s.fingerprint(versions[s.pipeline][1])) for s in schedules]
    actions = plan(desired, existing)
    report: dict[str, list[str]] = {
        "created": [s.name for s in actions.create],
        "replaced": [s.name for s, _ in actions.replace],
        "enabled": [r.name for r in actions.enable],
        "disabled": [r.name for r in actions.disable],
        "deleted": [r.name for r in actions.delete],
    }
    if dry_run:
        return report
    fingerprints = dict((s.name, f) for s, f in desired)

    def create(schedule: Any, enabled: bool) -> str:
        pipeline_id, version_id = versions[schedule.pipeline]
        body = V2beta1RecurringRun(
            display_name=PREFIX + schedule.name,
            description=json.dumps(
                {"kfops": True, "fingerprint": fingerprints[schedule.name], "pipeline": schedule.pipeline},
                sort_keys=True,
            ),
            pipeline_version_reference=V2beta1PipelineVersionReference(
                pipeline_id=pipeline_id, pipeline_version_id=version_id
            ),
            runtime_config=V2beta1RuntimeConfig(parameters=schedule.parameters),
            trigger=V2beta1Trigger(cron_schedule=V2beta1CronSchedule(cron=schedule.cron)),
            mode="ENABLE" if enabled else "DISABLE",
            max_concurrency=str(schedule.max_concurrency),
            no_catchup=True,
            experiment_id=experiment_id,
            namespace=namespace or None,
        )
        created = with_retries(
            f"create recurring run {schedule.name}",
            api.recurring_run_service_create_recurring_run,
            body,
            profile=namespace,
        )
        return str(created.recurring_run_id)

    for schedule in actions.create:
        create(schedule, schedule.enabled)
    for schedule, old_runs in actions.replace:
        new_id = create(schedule, enabled=False)
        for old in old_runs:
            if old.enabled:
                with_retries(
                    f"disable {old.name}",
                    api.recurring_run_service_disable_recurring_run,
                    old.id,
                    profile=namespace,
                )
        if schedule.enabled:
            with_retries(
                f"enable {schedule.name}",
                api.recurring_run_service_enable_recurring_run,
                new_id,
                profile=namespace,
            )
        for old in old_runs:
            with_retries(
                f"delete old {old.name}",
                api.recurring_run_service_delete_recurring_run,
                old.id,
                profile=namespace,
            )
    for run in actions.enable:
        with_retries(
            f"enable {run.name}", api.recurring_run_service_enable_recurring_run, run.id, profile=namespace
        )
    for run in actions.disable:
        with_retries(
            f"disable {run.name}", api.recurring_run_service_disable_recurring_run, run.id, profile=namespace
        )
    for run in actions.delete:
        with_retries(
            f"delete {run.name}", api.recurring_run_service_delete_recurring_run, run.id, profile=namespace
        )
    return report


def _audit(store_uri: str, host: str, namespace: str, commit: str, actor: str, result: DeployResult) -> str:
    moment = datetime.now(UTC)
    record = {
        "time": moment.isoformat(),
        "host": host,
        "namespace": namespace,
        "commit": commit,
        "actor": actor,
        **asdict(result),
    }
    store = open_store(store_uri)
    key = f"{LAYOUT.metrics}/{DEPLOYS}/{moment:%Y%m%dT%H%M%S%fZ}.json"
    return store.write(key, json.dumps(record, indent=2, sort_keys=True).encode(), overwrite=False)
