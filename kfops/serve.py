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
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml

from components.shared.artifacts import MODEL_FILE
from components.shared.deadline import Deadline, host_of, is_timeout
from components.shared.errors import InputError, KfopsError
from components.shared.models import resolve_model, version_prefix
from components.shared.store import LAYOUT, S3Store, Store, open_store
from kfops import kserve


def _timeout(api_client: Any) -> tuple[float, float]:
    """(connect, read) seconds for the next Kubernetes API call: what the command's deadline leaves."""
    deadline = getattr(api_client, "kfops_deadline", None)
    if deadline is None:
        deadline = api_client.kfops_deadline = Deadline(
            f"the Kubernetes API at {host_of(api_client.configuration.host)}"
        )
    return deadline.timeout()


REPLACE_ATTEMPTS = 3
HANDOFF_PREFIX = f"{LAYOUT.metrics}/serving/handoffs"
ANNOTATION_PREFIX = "kfops.io/"
MANAGED_BY = "app.kubernetes.io/managed-by"
DEFAULT_RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "250m", "memory": "512Mi"},
    "limits": {"cpu": "1", "memory": "1Gi"},
}

#: KServe's admission webhook: a leading letter (stricter than a DNS label).
_ISVC_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?\Z")
#: Room for the suffixes KServe and Knative append ("-predictor", "-00001") within 63 characters.
MAX_NAME = 45
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?\Z")


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


def check_service_name(name: str) -> str:
    """Return ``name`` if KServe accepts it as an InferenceService name."""
    if not _ISVC_NAME.match(name) or len(name) > MAX_NAME:
        raise InputError(
            f"invalid InferenceService name {name!r}: use lowercase letters, digits and '-', starting "
            f"with a letter, at most {MAX_NAME} characters (KServe and Knative append suffixes); "
            "pass another with --name"
        )
    return name


def model_location(store: Store, model_name: str, version: str) -> str:
    """The ``storageUri`` of a stored version: its folder, which must hold ``model.joblib`` and no
    other model file (KServe's sklearn server refuses a folder with two)."""
    prefix = version_prefix(model_name, version)
    direct = [k.rsplit("/", 1)[1] for k in store.list(prefix) if k.rsplit("/", 1)[0] == prefix]
    if MODEL_FILE not in direct:
        raise InputError(f"model {model_name!r} version {version!r} has no {MODEL_FILE} in {store.uri}")
    extra = [f for f in direct if f != MODEL_FILE and f.endswith(kserve.SKLEARN_MODEL_EXTENSIONS)]
    if extra:
        raise InputError(
            f"{store.uri_for(prefix)}/ holds {MODEL_FILE} and {', '.join(extra)}: KServe's sklearn "
            "server loads exactly one model file per folder"
        )
    return store.uri_for(prefix) + "/"


def render(
    metadata: dict[str, Any],
    *,
    name: str,
    namespace: str,
    storage_uri: str,
    service_account: str = kserve.SERVICE_ACCOUNT,
    runtime_version: str = "",
    resources: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The InferenceService serving one stored model version with KServe's sklearn server.

    Annotations carry what identifies the version (stable for a version, so serving the
    same version again changes nothing on the cluster); labels carry the model and version.
    """
    model_name, version = str(metadata["model_name"]), str(metadata["version"])
    labels = {
        "app.kubernetes.io/name": model_name,
        MANAGED_BY: "kfops",
        "app.kubernetes.io/part-of": "kfops",
    }
    if _LABEL_VALUE.match(version):
        labels["app.kubernetes.io/version"] = version
    facts = {
        "model": model_name,
        "model-version": version,
        "git-commit": metadata.get("git_commit"),
        "git-ref": metadata.get("git_ref"),
        "training-run-id": metadata.get("run_id"),
        "training-run-name": metadata.get("run_name"),
        "sklearn-version": metadata.get("sklearn_version"),
        "task": metadata.get("task"),
        "estimator": metadata.get("estimator_class"),
    }
    model: dict[str, Any] = {"modelFormat": {"name": "sklearn"}, "storageUri": storage_uri}
    if runtime_version:
        model["runtimeVersion"] = runtime_version
    model["resources"] = copy.deepcopy(resources or DEFAULT_RESOURCES)
    return {
        "apiVersion": kserve.API_VERSION,
        "kind": kserve.KIND,
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "annotations": {f"{ANNOTATION_PREFIX}{k}": str(v) for k, v in facts.items() if v},
        },
        "spec": {"predictor": {"serviceAccountName": service_account, "model": model}},
    }


def validate(obj: dict[str, Any]) -> None:
    """Raise `InputError` unless ``obj`` matches the repository's KServe CRD schema."""
    from kfops.manifests import validate_object

    problems = validate_object(obj)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(f"the rendered InferenceService is invalid: {problems[0]}{more}")


def check_runtime_can_load(metadata: dict[str, Any]) -> None:
    """Refuse a version whose estimator comes from a package KServe's sklearn server lacks.

    The server unpickles ``model.joblib`` with scikit-learn and its dependencies only, so a
    classifier or regressor from another package (allowed for training by
    ``[tool.kfops.estimators]``) needs a custom serving runtime, not this InferenceService.
    """
    estimator = str(metadata.get("estimator_class") or "")
    package = estimator.split(".", 1)[0]
    if estimator and package not in kserve.SKLEARN_RUNTIME_PACKAGES:
        raise InputError(
            f"version {metadata.get('version')} of {metadata.get('model_name')!r} uses {estimator}, which "
            f"KServe's sklearn server cannot load (it has {', '.join(kserve.SKLEARN_RUNTIME_PACKAGES)} only)"
        )


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


def _kubeconfig_file() -> str | None:
    # Read $KUBECONFIG at call time (the client reads it once, at import); it may list several files.
    return os.environ.get("KUBECONFIG") or None


def context_namespace(context: str = "") -> str:
    """The namespace of a kubeconfig context (the current one by default); "" if none."""
    try:
        from kubernetes import config

        contexts, active = config.list_kube_config_contexts(config_file=_kubeconfig_file())
        chosen = next((c for c in contexts if c["name"] == context), None) if context else active
        return str(((chosen or {}).get("context") or {}).get("namespace") or "")
    except Exception:  # no kubeconfig, or a malformed one: no default namespace
        return ""


def connect(context: str = "") -> Any:
    """A Kubernetes API client: kubeconfig (``context``), else in-cluster; checked by ``GET /version``.

    Raises:
        KfopsError: No usable configuration, or the API does not answer.
    """
    from kubernetes import client as k8s
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    configuration = k8s.Configuration()
    try:
        config.load_kube_config(
            config_file=_kubeconfig_file(),
            context=context or None,
            client_configuration=configuration,
            persist_config=False,
        )
    except (ConfigException, OSError, TypeError, KeyError) as exc:
        if context:
            raise KfopsError(f"cannot use kubeconfig context {context!r}: {exc}") from None
        try:
            config.load_incluster_config(client_configuration=configuration)
        except ConfigException:
            raise KfopsError(
                "no Kubernetes cluster configured: no usable kubeconfig ($KUBECONFIG or ~/.kube/config: "
                f"{exc}) and not running in a cluster"
            ) from None
    configuration.retries = False  # one attempt per call: the command's deadline bounds them all
    api_client = k8s.ApiClient(configuration)
    api_client.kfops_deadline = Deadline(f"the Kubernetes API at {host_of(configuration.host)}")
    try:
        # Only whether it answers: the body is not parsed (servers differ in which fields they fill).
        k8s.VersionApi(api_client).get_code(_request_timeout=_timeout(api_client), _preload_content=False)
    except k8s.ApiException as exc:
        if exc.status in (401, 403):
            raise KfopsError(
                f"the Kubernetes API at {configuration.host} refused these credentials (HTTP {exc.status})"
            ) from None
        raise KfopsError(f"the Kubernetes API at {configuration.host} answered HTTP {exc.status}") from None
    except KfopsError:
        raise
    except Exception as exc:  # urllib3 connection errors and timeouts
        if is_timeout(exc):
            raise api_client.kfops_deadline.timed_out() from None
        raise KfopsError(
            f"cannot reach the Kubernetes API at {host_of(configuration.host)}: {type(exc).__name__}"
        ) from None
    return api_client


def _api_failure(action: str, obj: dict[str, Any], exc: Exception) -> KfopsError:
    from kubernetes.client import ApiException

    target = f"InferenceService {obj['metadata']['namespace']}/{obj['metadata']['name']}"
    if isinstance(exc, KfopsError):
        return exc
    if not isinstance(exc, ApiException) and is_timeout(exc):
        return KfopsError(f"cannot {action} {target}: the Kubernetes API timed out (no answer in time)")
    if not isinstance(exc, ApiException):
        return KfopsError(
            f"cannot {action} {target}: the Kubernetes API did not answer ({type(exc).__name__})"
        )
    try:
        message = str(json.loads(exc.body or "{}").get("message", ""))
    except (ValueError, AttributeError):
        message = ""
    hint = ""
    if exc.status in (401, 403):
        hint = f"; this identity needs create/get/update on {kserve.PLURAL}.{kserve.GROUP} in the namespace"
    elif exc.status == 404 and action == "create":
        hint = f"; is KServe ({kserve.API_VERSION}) installed and does the namespace exist?"
    return KfopsError(
        f"Kubernetes refused to {action} {target} (HTTP {exc.status}): {message or exc.reason}{hint}"
    )


def apply(api_client: Any, obj: dict[str, Any]) -> str:
    """Create ``obj``; if it exists (409) and kfops manages it, replace it with its ``resourceVersion``.

    Returns:
        ``created`` or ``replaced``.

    Raises:
        KfopsError: Refused, unreachable, or the existing object is not managed by kfops.
    """
    from kubernetes import client as k8s

    api = k8s.CustomObjectsApi(api_client)
    namespace, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
    where = (kserve.GROUP, kserve.VERSION, namespace, kserve.PLURAL)
    try:
        api.create_namespaced_custom_object(*where, copy.deepcopy(obj), _request_timeout=_timeout(api_client))
        return "created"
    except k8s.ApiException as exc:
        if exc.status != 409:
            raise _api_failure("create", obj, exc) from None
    except Exception as exc:
        raise _api_failure("create", obj, exc) from None
    for _ in range(REPLACE_ATTEMPTS):
        try:
            existing = api.get_namespaced_custom_object(*where, name, _request_timeout=_timeout(api_client))
        except Exception as exc:
            raise _api_failure("read", obj, exc) from None
        meta = existing.get("metadata", {})
        if (meta.get("labels") or {}).get(MANAGED_BY) != "kfops":
            raise KfopsError(
                f"InferenceService {namespace}/{name} exists and is not managed by kfops (no label "
                f"{MANAGED_BY}=kfops); pass another --name or remove it"
            )
        body = copy.deepcopy(obj)
        body["metadata"]["resourceVersion"] = meta["resourceVersion"]
        # Keep what others added; drop what kfops wrote for the previous version (it may lack a key now).
        ours = set(obj["metadata"]["labels"]) | {"app.kubernetes.io/version"}
        body["metadata"]["labels"] = {
            **{k: v for k, v in (meta.get("labels") or {}).items() if k not in ours},
            **obj["metadata"]["labels"],
        }
        annotations = meta.get("annotations") or {}
        theirs = {k: v for k, v in annotations.items() if not k.startswith(ANNOTATION_PREFIX)}
        body["metadata"]["annotations"] = {**theirs, **obj["metadata"]["annotations"]}
        try:
            api.replace_namespaced_custom_object(*where, name, body, _request_timeout=_timeout(api_client))
            return "replaced"
        except k8s.ApiException as exc:
            if exc.status != 409:  # 409 here: changed since we read it; read again
                raise _api_failure("replace", obj, exc) from None
        except Exception as exc:
            raise _api_failure("replace", obj, exc) from None
    raise KfopsError(
        f"InferenceService {namespace}/{name} kept changing while being replaced "
        f"({REPLACE_ATTEMPTS} attempts); try again"
    )


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
