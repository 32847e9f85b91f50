"""The Kubernetes objects the Pulumi program applies (collected from the mocks)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kfops.manifests import validate_object
from tests.infra.mocks import ACCOUNT, ISSUER, Registered, run_program, stack_config


def _as_object(resource: Registered) -> dict[str, Any]:
    """Rebuild the Kubernetes object from a registered resource's inputs."""
    _, api, kind = resource.type.split(":")
    group_version = api.removeprefix("core/")
    obj = {"apiVersion": resource.inputs.get("apiVersion", group_version), "kind": kind.removesuffix("Patch")}
    obj.update({k: v for k, v in resource.inputs.items() if k not in ("apiVersion", "kind")})
    return obj


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> tuple[str, list[Registered]]:
    mocks, _ = run_program(stack_config(request.param))
    return request.param, mocks.resources


def _objects(resources: list[Registered]) -> list[dict[str, Any]]:
    return [
        _as_object(r) for r in resources if r.type.startswith("kubernetes:") and "providers" not in r.type
    ]


def _find(resources: list[Registered], kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    for obj in _objects(resources):
        meta = obj["metadata"]
        if (
            obj["kind"] == kind
            and meta["name"] == name
            and (namespace is None or meta.get("namespace") == namespace)
        ):
            return obj
    raise AssertionError(f"no {kind} {name}")


def test_every_applied_object_validates_strictly(stack: tuple[str, list[Registered]]) -> None:
    objects = _objects(stack[1])
    assert len(objects) >= 10
    assert [p for o in objects for p in validate_object(o)] == []


def test_every_profile_namespace_gets_its_objects(stack: tuple[str, list[Registered]]) -> None:
    name, resources = stack
    namespaces = json.loads(stack_config(name)["kfops:profileNamespaces"])
    for namespace in namespaces:
        for kind, obj_name in [
            ("PodDefault", "access-ml-pipeline"),
            ("ConfigMap", "kfp-launcher"),
            ("ServiceAccount", "kfops-ci"),
            ("ServiceAccount", "kserve-models"),
            ("ServiceAccount", "default-editor"),
            ("Role", "kfops-ci-token-minter"),
        ]:
            _find(resources, kind, obj_name, namespace)


def test_default_editor_is_patched_not_replaced_and_carries_its_irsa_role(
    stack: tuple[str, list[Registered]],
) -> None:
    patch = next(r for r in stack[1] if r.type == "kubernetes:core/v1:ServiceAccountPatch")
    annotations = patch.inputs["metadata"]["annotations"]
    namespace = patch.inputs["metadata"]["namespace"]
    assert (
        annotations["eks.amazonaws.com/role-arn"]
        == f"arn:aws:iam::{ACCOUNT}:role/kfops-pipelines-{namespace}"
    )
    assert not [
        r
        for r in stack[1]
        if r.type == "kubernetes:core/v1:ServiceAccount" and r.inputs["metadata"]["name"] == "default-editor"
    ]


def test_launcher_uses_the_bucket_and_pod_credentials(stack: tuple[str, list[Registered]]) -> None:
    resources = stack[1]
    bucket = next(r for r in resources if r.type == "aws:s3/bucket:Bucket").outputs["bucket"]
    launcher = next(o for o in _objects(resources) if o["metadata"]["name"] == "kfp-launcher")
    prefix = stack_config(stack[0]).get("kfops:storePrefix", "")  # the store's pipelines/ area
    root = f"s3://{bucket}/{prefix}/pipelines" if prefix else f"s3://{bucket}/pipelines"
    assert launcher["data"]["defaultPipelineRoot"] == root
    providers = json.loads(launcher["data"]["providers"])
    assert providers["s3"]["default"]["credentials"] == {"fromEnv": True}
    assert providers["s3"]["default"]["disableSSL"] is False


def test_pod_default_mounts_a_kfp_audience_token(stack: tuple[str, list[Registered]]) -> None:
    spec = next(o for o in _objects(stack[1]) if o["kind"] == "PodDefault")["spec"]
    assert spec["selector"] == {"matchLabels": {"access-ml-pipeline": "true"}}
    token = spec["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]
    assert token == {"path": "token", "expirationSeconds": 7200, "audience": "pipelines.kubeflow.org"}
    assert spec["env"] == [
        {"name": "KF_PIPELINES_SA_TOKEN_PATH", "value": "/var/run/secrets/kubeflow/pipelines/token"}
    ]
    assert spec["volumeMounts"][0]["readOnly"] is True


def test_token_role_creates_tokens_for_the_ci_account_only(stack: tuple[str, list[Registered]]) -> None:
    objects = _objects(stack[1])
    roles = [o for o in objects if o["kind"] == "Role"]
    assert roles and all(
        r["rules"]
        == [
            {
                "apiGroups": [""],
                "resources": ["serviceaccounts/token"],
                "resourceNames": ["kfops-ci"],
                "verbs": ["create"],
            }
        ]
        for r in roles
    )
    assert not [o for o in objects if o["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    bindings = [o for o in objects if o["kind"] == "RoleBinding"]
    minters = [b for b in bindings if b["roleRef"]["kind"] == "Role"]
    assert all(
        b["subjects"]
        == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "kfops-deployers"}]
        for b in minters
    )
    editors = [b for b in bindings if b["roleRef"]["kind"] == "ClusterRole"]
    for binding in editors:
        assert binding["roleRef"]["name"] == "kubeflow-pipelines-edit"
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": "kfops-ci", "namespace": binding["metadata"]["namespace"]}
        ]


def test_deploy_role_is_mapped_to_the_token_minting_group(stack: tuple[str, list[Registered]]) -> None:
    (entry,) = [
        r.inputs
        for r in stack[1]
        if r.type == "aws:eks/accessEntry:AccessEntry" and r.inputs.get("kubernetesGroups")
    ]  # the infrastructure roles' entries (infra/identity.py) map no group
    assert entry["principalArn"] == f"arn:aws:iam::{ACCOUNT}:role/kfops-github-deploy"
    assert entry["kubernetesGroups"] == ["kfops-deployers"] and entry["type"] == "STANDARD"


def test_ingress_is_https_only_restricted_and_checks_istio_health(
    stack: tuple[str, list[Registered]],
) -> None:
    name, resources = stack
    config = stack_config(name)
    ingress = _find(resources, "Ingress", "kfops-kubeflow", "istio-system")
    annotations = ingress["metadata"]["annotations"]
    prefix = "alb.ingress.kubernetes.io/"
    assert annotations[prefix + "ssl-redirect"] == "443"
    assert annotations[prefix + "certificate-arn"] == config["kfops:certificateArn"]
    assert annotations[prefix + "ssl-policy"].startswith("ELBSecurityPolicy-TLS13")
    assert annotations[prefix + "inbound-cidrs"] == ",".join(json.loads(config["kfops:allowedCidrs"]))
    assert annotations[prefix + "scheme"] == config["kfops:loadBalancerScheme"]
    assert (
        annotations[prefix + "load-balancer-attributes"]
        == "routing.http.drop_invalid_header_fields.enabled=true"
    )
    assert (annotations[prefix + "healthcheck-port"], annotations[prefix + "healthcheck-path"]) == (
        "15021",
        "/healthz/ready",
    )
    assert annotations.get(prefix + "wafv2-acl-arn") == config.get("kfops:wafAclArn")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "istio-ingressgateway", "port": {"number": 80}}


def test_machine_tokens_are_trusted_from_this_cluster_for_kfp_only(
    stack: tuple[str, list[Registered]],
) -> None:
    auth = _find(stack[1], "RequestAuthentication", "kfops-machine-tokens", "istio-system")
    (rule,) = auth["spec"]["jwtRules"]
    assert rule["issuer"] == f"https://{ISSUER}" and rule["audiences"] == ["pipelines.kubeflow.org"]
    assert rule["outputClaimToHeaders"] == [{"header": "kubeflow-userid", "claim": "sub"}]


def test_kserve_reads_s3_through_its_irsa_role_with_no_stored_keys(
    stack: tuple[str, list[Registered]],
) -> None:
    objects = _objects(stack[1])
    for account in (
        o for o in objects if o["kind"] == "ServiceAccount" and o["metadata"]["name"] == "kserve-models"
    ):
        namespace = account["metadata"]["namespace"]
        annotations = account["metadata"]["annotations"]
        assert (
            annotations["eks.amazonaws.com/role-arn"]
            == f"arn:aws:iam::{ACCOUNT}:role/kfops-kserve-{namespace}"
        )
        assert annotations["serving.kserve.io/s3-usehttps"] == "1"
        secret = _find(stack[1], "Secret", account["secrets"][0]["name"], namespace)
        assert "data" not in secret and "stringData" not in secret
        assert secret["metadata"]["annotations"]["serving.kserve.io/s3-endpoint"].startswith("s3.")
