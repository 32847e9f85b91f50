"""``kfops deploy``: upload compiled pipelines as content-addressed versions, idempotently.

A version's name is ``<pipeline>-<sha256 of the compiled YAML, 12 hex>``; the YAML
embeds the content-hash image tags, so the same sources give the same name on a PR
and after merge. A version that exists is never uploaded again.

Order of work, so that a deploy which cannot finish changes nothing:

1. everything local is checked first: the compiled files parse, the schedules file
   is valid, the audit store exists and is writable, every ECR image tag exists;
2. a read-only, authorized preflight (:func:`kfops.kfp_session.connect`);
3. the server is read and the changes planned; a dry run stops here and reports
   them (only GET requests were made);
4. the changes are made. Specs go up as multipart uploads, as the KFP 2.17 server
   requires. A new pipeline's upload also creates a first version named like the
   pipeline (the server always names it so); it is kept, as it is the same file as
   the content-addressed version beside it, and only content-addressed names count.
   Every change made is recorded in the audit record, also when a later step fails.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from components.kfp_api import KfpApi
from components.shared.errors import InputError, KfopsError, one_line
from components.shared.names import LAYOUT, PROJECT
from components.shared.store import Store, open_store
from kfops.kfp_session import connect
from kfops.schedule_sync import Clock, ScheduleReport, reconcile_schedules
from kfops.schedules import Schedule

DEPLOYS = "deploys"
VERSION_HASH = 12


class DeployError(KfopsError):
    """A deploy could not be completed."""


@dataclass
class DeployResult:
    """What a deploy did (or, on a dry run, would do).

    Attributes:
        uploaded: ``pipeline@version`` created by this deploy (would be, on a dry run).
        unchanged: ``pipeline@version`` that already existed.
        schedules: Schedule changes by kind (``created``, ``replaced``, ... ``unchanged``).
        warnings: Hand-off warnings (see :mod:`kfops.handoff`).
        audit_uri: Where the audit record went (``""`` on a dry run or without a store).
        server_version: The KFP backend's version.
    """

    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    schedules: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    audit_uri: str = ""
    server_version: str = ""
    versions: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Compiled:
    """One compiled pipeline file."""

    name: str
    path: Path
    version: str
    images: frozenset[str]

    @property
    def label(self) -> str:
        """``pipeline@version``."""
        return f"{self.name}@{self.version}"


def version_name(pipeline: str, spec: bytes) -> str:
    """The content-addressed version name of a compiled pipeline."""
    return f"{pipeline}-{hashlib.sha256(spec).hexdigest()[:VERSION_HASH]}"


def is_version_name(pipeline: str, name: str) -> bool:
    """Whether ``name`` is a content-addressed version name of ``pipeline``."""
    return re.fullmatch(re.escape(pipeline) + rf"-[0-9a-f]{{{VERSION_HASH}}}", name or "") is not None


def read_compiled(pipelines_dir: Path) -> list[Compiled]:
    """Every compiled pipeline in ``pipelines_dir``, checked to be a KFP pipeline file.

    Raises:
        InputError: No files, or a file that is not a compiled pipeline.
    """
    files = sorted(pipelines_dir.glob("*.yaml"))
    if not files:
        raise InputError(f"no compiled pipelines in {pipelines_dir} (run `kfops compile`)")
    compiled = []
    for path in files:
        data = path.read_bytes()
        try:
            documents = [d for d in yaml.safe_load_all(data) if d]
        except yaml.YAMLError as exc:
            raise InputError(f"{path} is not valid YAML: {one_line(exc)}") from None
        if not documents or not isinstance(documents[0], dict) or "pipelineInfo" not in documents[0]:
            raise InputError(f"{path} is not a compiled KFP pipeline (no pipelineInfo)")
        compiled.append(
            Compiled(path.stem, path, version_name(path.stem, data), referenced_images(documents[0]))
        )
    return compiled


def referenced_images(spec: dict[str, Any]) -> frozenset[str]:
    """Every container image a compiled pipeline spec references."""
    executors = spec.get("deploymentSpec", {}).get("executors", {})
    return frozenset(e["container"]["image"] for e in executors.values() if "container" in e)


def writable_store(uri: str) -> Store:
    """The audit store, checked to exist and be writable before anything is deployed.

    Raises:
        StoreError: Missing or not writable.
    """
    store = open_store(uri)
    store.check_writable()
    return store


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
    clock: Clock | None = None,
) -> DeployResult:
    """Upload every compiled pipeline in ``pipelines_dir`` that is not deployed yet; reconcile schedules.

    Raises:
        InputError: A local input is unusable (files, schedules, store); nothing was sent.
        ApiError: The API refused a request or stayed unreachable.
        DeployError: An image is missing, or the API does not list what it accepted.
    """
    from kfops.images.ecr import verify_images
    from kfops.schedules import load_schedules

    compiled = read_compiled(pipelines_dir)
    declared = load_schedules(schedules_file, {c.name for c in compiled}) if schedules_file else None
    audit_store = writable_store(store) if store and not dry_run else None
    verify_images(set().union(*(c.images for c in compiled)))
    api, server = connect(host, token, namespace)
    result = DeployResult(server_version=server.version)
    changes: list[dict[str, str]] = []
    description = json.dumps(
        {
            PROJECT: True,
            "commit": commit,
            "actor": actor,
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        sort_keys=True,
    )
    failure: BaseException | None = None
    try:
        for item in compiled:
            _deploy_one(api, item, description, result, changes, dry_run)
        if declared is not None:
            experiment, schedules = declared
            report = _schedules(api, experiment, schedules, result, changes, dry_run, clock)
            result.schedules = {k: v for k, v in report.changes.items() if v}
            result.warnings = report.warnings
    except BaseException as exc:
        failure = exc
        raise
    finally:
        if audit_store is not None and (changes or failure is None):
            try:
                result.audit_uri = _audit(
                    audit_store, host, namespace, commit, actor, result, changes, failure
                )
            except KfopsError as exc:
                if failure is None:
                    raise
                print(f"warning: the audit record of the changes made could not be written: {exc}")
    return result


def _deploy_one(
    api: KfpApi,
    item: Compiled,
    description: str,
    result: DeployResult,
    changes: list[dict[str, str]],
    dry_run: bool,
) -> None:
    pipeline = api.find_pipeline(item.name)
    version = api.find_version(pipeline.pipeline_id, item.version) if pipeline is not None else None
    if pipeline is not None and version is not None:
        result.unchanged.append(item.label)
        result.versions[item.name] = (pipeline.pipeline_id, version.pipeline_version_id)
        return
    result.uploaded.append(item.label)
    if dry_run:
        result.versions[item.name] = (getattr(pipeline, "pipeline_id", ""), f"(new) {item.version}")
        return
    if pipeline is None:
        pipeline, created = api.upload_pipeline(item.path, item.name, f"kfops pipeline {item.name}")
        if created:
            changes.append({"change": "pipeline created", "name": item.name, "id": pipeline.pipeline_id})
    version, created = api.upload_version(pipeline.pipeline_id, item.path, item.version, description)
    if created:
        changes.append({"change": "version uploaded", "name": item.label, "id": version.pipeline_version_id})
    result.versions[item.name] = (pipeline.pipeline_id, version.pipeline_version_id)


def _schedules(
    api: KfpApi,
    experiment: str,
    schedules: list[Schedule],
    result: DeployResult,
    changes: list[dict[str, str]],
    dry_run: bool,
    clock: Clock | None,
) -> ScheduleReport:
    return reconcile_schedules(
        api,
        experiment,
        schedules,
        result.versions,
        dry_run=dry_run,
        clock=clock,
        on_change=lambda change, name: changes.append({"change": f"schedule {change}", "name": name}),
    )


def _audit(
    store: Store,
    host: str,
    namespace: str,
    commit: str,
    actor: str,
    result: DeployResult,
    changes: list[dict[str, str]],
    failure: BaseException | None,
) -> str:
    moment = datetime.now(UTC)
    record = {
        "time": moment.isoformat(),
        "host": host,
        "namespace": namespace,
        "commit": commit,
        "actor": actor,
        "outcome": "failed" if failure is not None else "succeeded",
        "error": one_line(failure) if failure is not None else "",
        "changes": changes,
        **asdict(result),
    }
    key = f"{LAYOUT.metrics}/{DEPLOYS}/{moment:%Y%m%dT%H%M%S%fZ}.json"
    return store.write(key, json.dumps(record, indent=2, sort_keys=True).encode(), overwrite=False)
