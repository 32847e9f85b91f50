"""``kfops manifests``: render ``manifests/`` from ``infra/kubernetes_objects.py`` and validate objects.

The Python functions are the one definition of each object. The rendered
``base/`` holds what every environment shares (one example profile namespace);
``overlays/aws`` adds the IRSA ServiceAccounts and the edge (ALB Ingress, machine
tokens) with example values (Pulumi applies the same functions with the stack's
real values); ``overlays/kind`` points ``kfp-launcher`` at the in-cluster store.
"""

from __future__ import annotations

import functools
import posixpath
from pathlib import Path
from typing import Any

import yaml

from components.shared.errors import InputError
from components.shared.names import PART_OF_LABEL
from kfops.files import write_atomically

REPO = Path(__file__).resolve().parents[1]
MANIFESTS = REPO / "manifests"
SCHEMAS = MANIFESTS / "schemas" / "crds"
KUBERNETES_VERSION = "1.33.0"

EXAMPLE_NAMESPACE = "team-ml"
EXAMPLE_ACCOUNT = "123456789012"
EXAMPLE_BUCKET = "kfops-artifacts-example"
HEADER = "# Rendered by `kfops manifests render` from infra/kubernetes_objects.py; do not edit.\n"


def _dump(objects: list[dict[str, Any]]) -> str:
    return HEADER + "---\n".join(yaml.safe_dump(o, sort_keys=False) for o in objects)


def _kustomization(resources: list[str], patches: list[str] | None = None) -> str:
    body: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }
    if patches:
        body["patches"] = [{"path": p} for p in patches]
    return HEADER + yaml.safe_dump(body, sort_keys=False)


def render() -> dict[str, str]:
    """Every file under ``manifests/`` that is generated, by path relative to it."""
    from infra import kubernetes_objects as k

    aws = k.ProfileValues(
        namespace=EXAMPLE_NAMESPACE,
        pipeline_root=f"s3://{EXAMPLE_BUCKET}/{EXAMPLE_NAMESPACE}/pipelines",  # the team's store
        pipeline_role_arn=f"arn:aws:iam::{EXAMPLE_ACCOUNT}:role/kfops-dev-pipelines-{EXAMPLE_NAMESPACE}",
        kserve_role_arn=f"arn:aws:iam::{EXAMPLE_ACCOUNT}:role/kfops-dev-kserve-{EXAMPLE_NAMESPACE}",
        s3_endpoint="s3.eu-west-1.amazonaws.com",
    )
    shared = [o for o in k.profile_objects(aws, aws=False)]
    aws_only = [o for o in k.profile_objects(aws, aws=True) if o not in shared]
    edge = k.edge_objects(
        k.EdgeValues(
            hostname="kubeflow.dev.example.com",
            certificate_arn=f"arn:aws:acm:eu-west-1:{EXAMPLE_ACCOUNT}:certificate/00000000-0000-0000-0000-000000000000",
            allowed_cidrs=("10.20.0.0/16",),
            scheme="internal",
            waf_acl_arn="",
            issuer_url="https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
        )
    )
    kind = k.ProfileValues(
        namespace=EXAMPLE_NAMESPACE,
        pipeline_root="s3://mlpipeline/pipelines",
        s3_endpoint="seaweedfs.kubeflow:9000",  # KFP 2.17 ships SeaweedFS (S3 on 8333, 9000 kept)
        s3_disable_ssl=True,
        s3_credentials_secret="mlpipeline-minio-artifact",
    )
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": EXAMPLE_NAMESPACE, "labels": {PART_OF_LABEL: "kubeflow-profile"}},
    }
    return {
        "base/profile.yaml": _dump(shared),
        "base/kustomization.yaml": _kustomization(["profile.yaml"]),
        "overlays/aws/irsa.yaml": _dump(aws_only),
        "overlays/aws/edge.yaml": _dump(edge),
        "overlays/aws/kustomization.yaml": _kustomization(["../../base", "irsa.yaml", "edge.yaml"]),
        "overlays/kind/namespace.yaml": _dump([namespace]),
        "overlays/kind/kfp-launcher.yaml": _dump([k.launcher_config(kind)]),
        "overlays/kind/kustomization.yaml": _kustomization(
            ["../../base", "namespace.yaml"], ["kfp-launcher.yaml"]
        ),
    }


def write(check: bool = False, root: Path = MANIFESTS) -> list[str]:
    """Write the rendered files (or, with ``check``, list the stale ones without writing)."""
    stale = []
    for relative, text in render().items():
        path = root / relative
        if path.is_file() and path.read_text() == text:
            continue
        stale.append(relative)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, text.encode())
    return stale


@functools.cache
def _crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(SCHEMAS.glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                schema = version.get("schema", {}).get("openAPIV3Schema")
                if schema:
                    # Some CRDs (Istio's) omit the fields every object has; declare them.
                    root = {
                        **schema,
                        "properties": {
                            "apiVersion": {"type": "string"},
                            "kind": {"type": "string"},
                            "metadata": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                            **schema.get("properties", {}),
                        },
                    }
                    schemas[(f"{group}/{version['name']}", kind)] = _closed(root)
    return schemas


def _closed(schema: Any) -> Any:
    """Forbid undeclared fields wherever a schema lists its properties (as the API server prunes)."""
    if isinstance(schema, dict):
        schema = {k: _closed(v) for k, v in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_closed(v) for v in schema]
    return schema


def validate_object(obj: dict[str, Any]) -> list[str]:
    """Problems of one object: core kinds against Kubernetes' schemas (strict), CRD kinds
    against the repository's CRD copies with undeclared fields as errors."""
    import jsonschema
    import kubernetes_validate

    label = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    schema = _crd_schemas().get((obj.get("apiVersion", ""), obj.get("kind", "")))
    if schema is not None:
        validator = jsonschema.Draft7Validator(schema)
        return [
            f"{label}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)
        ]
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{label}: {'/'.join(map(str, exc.path))}: {exc.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"{label}: no schema for {obj.get('apiVersion')} {obj.get('kind')}"]
    return []


def validate_documents(text: str, source: str) -> list[str]:
    """Validate every object of a YAML stream."""
    try:
        documents = [d for d in yaml.safe_load_all(text) if d]
    except yaml.YAMLError as exc:
        raise InputError(f"{source} is not valid YAML: {exc}") from None
    return [problem for d in documents for problem in validate_object(d)]


def overlay_objects(overlay: str, files: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The objects an overlay renders to, composed in Python (what ``kubectl kustomize`` gives
    for these simple overlays: resources, then patches merged into matching objects)."""
    files = files or render()

    def load(directory: str) -> list[dict[str, Any]]:
        kustomization = yaml.safe_load(files[f"{directory}/kustomization.yaml"])
        found: list[dict[str, Any]] = []
        for resource in kustomization.get("resources", []):
            if resource.endswith(".yaml"):
                found += [d for d in yaml.safe_load_all(files[f"{directory}/{resource}"]) if d]
            else:
                found += load(posixpath.normpath(f"{directory}/{resource}"))
        for patch in kustomization.get("patches", []):
            for change in (d for d in yaml.safe_load_all(files[f"{directory}/{patch['path']}"]) if d):
                key = (change["kind"], change["metadata"]["name"], change["metadata"].get("namespace"))
                for target in found:
                    if (
                        target["kind"],
                        target["metadata"]["name"],
                        target["metadata"].get("namespace"),
                    ) == key:
                        target.setdefault("data", {}).update(change.get("data", {}))
        return found

    return load(f"overlays/{overlay}")
