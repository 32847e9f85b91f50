"""The InferenceService that serves one stored model version, and the checks it must pass."""

from __future__ import annotations

import copy
import re
from typing import Any

from components.shared.artifacts import MODEL_FILE
from components.shared.errors import InputError
from components.shared.models import version_prefix
from components.shared.names import LABELS
from components.shared.store import Store
from kfops import kserve

ANNOTATION_PREFIX = "kfops.io/"
DEFAULT_RESOURCES: dict[str, dict[str, str]] = {
    "requests": {"cpu": "250m", "memory": "512Mi"},
    "limits": {"cpu": "1", "memory": "1Gi"},
}

#: KServe's admission webhook: a leading letter (stricter than a DNS label).
_ISVC_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?\Z")
#: Room for the suffixes KServe and Knative append ("-predictor", "-00001") within 63 characters.
MAX_NAME = 45
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?\Z")


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
    labels = {"app.kubernetes.io/name": model_name, **LABELS}  # managed-by and part-of: kfops
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
