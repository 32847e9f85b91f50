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
    mocks, _ = run_program(stack_config(request.param), request.param)
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
        == f"arn:aws:iam::{ACCOUNT}:role/kfops-{stack[0]}-pipelines-{namespace}"
    )
    assert not [
        r
        for r in stack[1]
        if r.type == "kubernetes:core/v1:ServiceAccount" and r.inputs["metadata"]["name"] == "default-editor"
    ]


def test_launcher_points_each_namespace_at_its_own_store_with_pod_credentials(
    stack: tuple[str, list[Registered]],
) -> None:
    name, resources = stack
    bucket = next(r for r in resources if r.type == "aws:s3/bucket:Bucket").outputs["bucket"]
    prefix = stack_config(name).get("kfops:storePrefix", "")
    namespaces = json.loads(stack_config(name)["kfops:profileNamespaces"])
    launchers = {
        o["metadata"]["namespace"]: o for o in _objects(resources) if o["metadata"]["name"] == "kfp-launcher"
    }
    assert set(launchers) == set(namespaces)
    for namespace, launcher in launchers.items():
        store = f"{prefix}/{namespace}" if prefix else namespace  # <storePrefix>/<namespace>
        assert launcher["data"]["defaultPipelineRoot"] == f"s3://{bucket}/{store}/pipelines"
        providers = json.loads(launcher["data"]["providers"])
        assert providers["s3"]["default"]["credentials"] == {"fromEnv": True}
        assert providers["s3"]["default"]["disableSSL"] is False


def test_kfp_launcher_is_patched_because_the_profile_controller_creates_it(
    stack: tuple[str, list[Registered]],
) -> None:
    """KFP 2.17's profile controller creates kfp-launcher (sync.py): a create would fail with
    AlreadyExists, so kfops patches its keys, forcing the controller's defaultPipelineRoot."""
    resources = stack[1]
    patches = [r for r in resources if r.type == "kubernetes:core/v1:ConfigMapPatch"]
    assert patches and {p.inputs["metadata"]["name"] for p in patches} == {"kfp-launcher"}
    for patch in patches:
        assert patch.inputs["metadata"]["annotations"]["pulumi.com/patchForce"] == "true"
        assert set(patch.inputs["data"]) == {"defaultPipelineRoot", "providers"}  # not clusterDomain
    created = [
        r
        for r in resources
        if r.type == "kubernetes:core/v1:ConfigMap" and r.inputs["metadata"]["name"] == "kfp-launcher"
    ]
    assert created == []


def test_existing_objects_are_adopted_not_a_failed_up(stack: tuple[str, list[Registered]]) -> None:
    """pulumi-kubernetes >= 4.29 fails a create on an existing object unless the provider upserts
    (its CHANGELOG, #4278): every kfops object, the PodDefault first, goes through one provider
    that does."""
    resources = stack[1]
    (provider,) = [r for r in resources if r.type == "pulumi:providers:kubernetes"]
    assert provider.inputs["upsertExistingObjects"] == "true"  # provider inputs reach the engine as strings
    objects = [r for r in resources if r.type.startswith("kubernetes:")]
    assert [r for r in objects if r.type.endswith(":PodDefault")]
    used = {r.provider.rsplit("::", 2)[-2] for r in objects}
    assert used == {provider.name}, used


def test_object_names_are_their_identity_so_upsert_cannot_adopt_then_delete(
    stack: tuple[str, list[Registered]],
) -> None:
    """The hazard upsertExistingObjects brings (a renamed resource adopts the object its old name
    then deletes) needs two Pulumi names for one object: each name is (namespace, kind, name)."""
    resources = [r for r in stack[1] if r.type.startswith("kubernetes:")]
    for resource in resources:
        obj = _as_object(resource)
        meta = obj["metadata"]
        if meta["namespace"] == "istio-system":  # the edge objects, named as before
            assert resource.name == f"{obj['kind'].lower()}-{meta['name']}"
        else:
            assert resource.name == f"{meta['namespace']}-{obj['kind'].lower()}-{meta['name']}"
    assert len({r.name for r in resources}) == len(resources)


def test_deploy_role_is_mapped_to_the_token_minting_group(stack: tuple[str, list[Registered]]) -> None:
    (entry,) = [
        r.inputs
        for r in stack[1]
        if r.type == "aws:eks/accessEntry:AccessEntry" and r.inputs.get("kubernetesGroups")
    ]  # the infrastructure roles' entries (infra/identity.py) map no group
    assert entry["principalArn"] == f"arn:aws:iam::{ACCOUNT}:role/kfops-{stack[0]}-github-deploy"
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
    # as kubeflow/manifests common/oauth2-proxy/components/istio-m2m/requestauthentication.yaml:
    # the groups claim overwrites a client's kubeflow-groups header (against impersonation)
    assert rule["outputClaimToHeaders"] == [
        {"header": "kubeflow-userid", "claim": "sub"},
        {"header": "kubeflow-groups", "claim": "groups"},
    ]
    assert rule["fromHeaders"] == [{"name": "Authorization", "prefix": "Bearer "}]


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
            == f"arn:aws:iam::{ACCOUNT}:role/kfops-{stack[0]}-kserve-{namespace}"
        )
        assert annotations["serving.kserve.io/s3-usehttps"] == "1"
        secret = _find(stack[1], "Secret", account["secrets"][0]["name"], namespace)
        assert "data" not in secret and "stringData" not in secret
        assert secret["metadata"]["annotations"]["serving.kserve.io/s3-endpoint"].startswith("s3.")
