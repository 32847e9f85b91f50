"""``kfops serve MODEL[:VERSION]``: serve a stored model version with a KServe InferenceService.

1. Resolve the version in the store (no ``:VERSION``: the model's champion).
2. Render a ``serving.kserve.io/v1beta1`` ``InferenceService``: KServe's sklearn
   server, ``storageUri`` = the version's folder (it holds ``model.joblib``, the one
   model file the server loads), the ServiceAccount with the read-only IRSA role
   (`kfops.kserve.SERVICE_ACCOUNT`, the name ``infra/`` annotates), requests and limits.
3. Validate it against the repository's copy of the KServe CRD schema (undeclared
   fields are errors), as ``kfops manifests validate`` does.
4. ``--dry-run`` stops here and prints the YAML. Otherwise: refuse a local store
   (KServe downloads ``storageUri`` inside the cluster), check that the Kubernetes
   API answers, write an immutable hand-off record to
   ``metrics/serving/handoffs/<UTC stamp>-<model>-<version>.json`` (so every served
   model is traceable to its run, data, commit and who served it), then create the
   object, or replace it (with its ``resourceVersion``) when it exists and kfops manages it.

The steps live in this package's modules: ``inference_service`` (render and check the
object), ``handoff`` (the record), ``cluster`` (the Kubernetes API) and ``apply``
(create or replace).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml

from components.shared.errors import InputError, KfopsError
from components.shared.models import resolve_model
from components.shared.store import S3Store, open_store
from kfops import kserve
from kfops.serve.apply import apply
from kfops.serve.cluster import connect, context_namespace
from kfops.serve.handoff import handoff_key, handoff_record
from kfops.serve.inference_service import (
    check_runtime_can_load,
    check_service_name,
    model_location,
    render,
    validate,
)

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")


@dataclass(frozen=True)
class ServeResult:
    """What ``kfops serve`` did.

    Attributes:
        obj: The rendered (validated) InferenceService.
        metadata: The served version's stored metadata.
        resolved_from: ``champion`` or ``version`` (named explicitly).
        action: ``created``, ``replaced`` or ``rendered`` (dry run).
        handoff_uri: Where the hand-off record went ("" on a dry run).
    """

    obj: dict[str, Any]
    metadata: dict[str, Any]
    resolved_from: str
    action: str
    handoff_uri: str = ""

    @property
    def yaml(self) -> str:
        return yaml.safe_dump(self.obj, sort_keys=False)


def serve(
    reference: str,
    *,
    store_uri: str,
    namespace: str = "",
    name: str = "",
    context: str = "",
    dry_run: bool = False,
    service_account: str = kserve.SERVICE_ACCOUNT,
    runtime_version: str = "",
    actor: str = "",
    now: datetime | None = None,
) -> ServeResult:
    """Serve ``MODEL[:VERSION]`` from ``store_uri`` (see the module docstring).

    Raises:
        InputError: Bad reference or name, no champion, unknown version, a model folder KServe
            cannot load, an invalid object, or a local store without ``dry_run`` (exit 2).
        KfopsError: No reachable cluster, or the API refused the object (exit 1).
    """
    store = open_store(store_uri)
    metadata = resolve_model(store, reference)
    model_name, version = str(metadata["model_name"]), str(metadata["version"])
    resolved_from = "version" if reference.partition(":")[2] else "champion"
    service_name = check_service_name(name or model_name)
    namespace = namespace or context_namespace(context)
    if not namespace:
        raise InputError("no namespace: pass --namespace (the Kubeflow profile namespace to serve in)")
    if not _DNS_LABEL.match(namespace):
        raise InputError(f"invalid namespace {namespace!r}: expected a DNS label")
    if not _DNS_LABEL.match(service_account):
        raise InputError(f"invalid ServiceAccount name {service_account!r}: expected a DNS label")
    check_runtime_can_load(metadata)
    obj = render(
        metadata,
        name=service_name,
        namespace=namespace,
        storage_uri=model_location(store, model_name, version),
        service_account=service_account,
        runtime_version=runtime_version,
    )
    validate(obj)
    if dry_run:
        return ServeResult(obj, metadata, resolved_from, "rendered")
    if not isinstance(store, S3Store):
        raise InputError(
            f"store {store.uri} is a local directory: KServe's storage initializer downloads storageUri "
            "inside the cluster and cannot read a path on this machine; serve from an S3 store "
            "(--store s3://bucket/prefix) or use --dry-run to only render the InferenceService"
        )
    api_client = connect(context)
    from kfops.gitinfo import current_commit, current_ref

    now = now or datetime.now(UTC)
    record = handoff_record(
        metadata,
        obj,
        resolved_from=resolved_from,
        store_uri=store.uri,
        context=context,
        actor=actor,
        now=now,
        served_from={"git_commit": current_commit(), "git_ref": current_ref()},
    )
    handoff_uri = store.write(
        handoff_key(now, model_name, version),
        json.dumps(record, indent=2, sort_keys=True).encode(),
        overwrite=False,
    )
    try:
        action = apply(api_client, obj)
    except KfopsError as exc:
        raise KfopsError(f"{exc} (hand-off record {handoff_uri} was written)") from None
    return ServeResult(obj, metadata, resolved_from, action, handoff_uri)
