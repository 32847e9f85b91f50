"""Kubeflow-side objects: applied from ``infra/kubernetes_objects.py`` with computed values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.shared.names import DEPLOYERS_GROUP, PIPELINE_SERVICE_ACCOUNT
from infra import kubernetes_objects as objects
from infra.cluster import ClusterFacts
from infra.config import InfraConfig


@dataclass(frozen=True)
class KubeflowObjectsArgs:
    """Inputs of the Kubeflow-side objects.

    Attributes:
        config: Stack settings.
        cluster: The cluster's facts.
        pipeline_roots: Each namespace's pipeline root (``s3://bucket/<store>/<namespace>/pipelines``).
        pipeline_role_arns: IRSA role of ``default-editor`` per namespace.
        kserve_role_arns: IRSA role of KServe's ServiceAccount per namespace.
        deploy_role_arn: The GitHub deploy role (mapped to the token-minting group).
    """

    config: InfraConfig
    cluster: ClusterFacts
    pipeline_roots: dict[str, pulumi.Output[str]]
    pipeline_role_arns: dict[str, pulumi.Output[str]]
    kserve_role_arns: dict[str, pulumi.Output[str]]
    deploy_role_arn: pulumi.Output[str]


#: Server-side-apply the patch even where another field manager owns a field (pulumi-kubernetes
#: Patch resources fail on a conflict otherwise).
PATCH_FORCE = {"pulumi.com/patchForce": "true"}


def resource_name(obj: dict[str, Any], *, edge: bool = False) -> str:
    """The Pulumi name of an object: a function of its identity (namespace, kind, name).

    So a changed logical name always means a different object: the rename hazard of
    ``upsertExistingObjects`` (a create that adopts an object the same ``up`` then deletes
    under its old name) cannot happen. Edge objects all live in ``istio-system`` and keep
    their names without it (as before: renaming them would be that hazard).
    """
    meta = obj["metadata"]
    prefix = "" if edge else f"{meta['namespace']}-"
    return f"{prefix}{obj['kind'].lower()}-{meta['name']}"


def apply_object(name: str, obj: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Create the Pulumi resource for one object dict (camelCase fields passed through)."""
    kind, meta = obj["kind"], obj["metadata"]
    if kind == "ServiceAccount" and meta["name"] == PIPELINE_SERVICE_ACCOUNT:
        # Kubeflow's profile controller owns default-editor: add the annotation, never replace it.
        return k8s.core.v1.ServiceAccountPatch(name, metadata=meta, opts=opts)
    if kind == "ConfigMap" and meta["name"] == objects.LAUNCHER_CONFIG:
        # KFP's profile controller creates kfp-launcher in every pipelines-enabled namespace
        # (kubeflow/pipelines 2.17.0, manifests/kustomize/base/installs/multi-user/
        # pipelines-profile-controller/sync.py: data defaultPipelineRoot=minio://... and
        # clusterDomain) and never updates it (decorator-controller.yaml: configmaps
        # updateStrategy OnDelete). So kfops patches its two keys, forcing the one the
        # controller set; a create would fail with AlreadyExists, and owning the object would
        # delete Kubeflow's ConfigMap on destroy.
        patched: Any = {**meta, "annotations": {**meta.get("annotations", {}), **PATCH_FORCE}}
        return k8s.core.v1.ConfigMapPatch(name, metadata=patched, data=obj["data"], opts=opts)
    if kind == "ServiceAccount":
        return k8s.core.v1.ServiceAccount(
            name,
            metadata=meta,
            secrets=obj.get("secrets"),
            automount_service_account_token=obj.get("automountServiceAccountToken"),
            opts=opts,
        )
    if kind == "Secret":
        return k8s.core.v1.Secret(name, metadata=meta, type=obj["type"], opts=opts)
    if kind == "ConfigMap":
        return k8s.core.v1.ConfigMap(name, metadata=meta, data=obj["data"], opts=opts)
    if kind == "Role":
        return k8s.rbac.v1.Role(name, metadata=meta, rules=obj["rules"], opts=opts)
    if kind == "RoleBinding":
        return k8s.rbac.v1.RoleBinding(
            name, metadata=meta, role_ref=obj["roleRef"], subjects=obj["subjects"], opts=opts
        )
    if kind == "Ingress":
        return k8s.networking.v1.Ingress(name, metadata=meta, spec=obj["spec"], opts=opts)
    return k8s.apiextensions.CustomResource(
        name, api_version=obj["apiVersion"], kind=kind, metadata=meta, spec=obj["spec"], opts=opts
    )


class KubeflowObjects(pulumi.ComponentResource):
    """Per profile namespace: PodDefault, ``kfp-launcher``, IRSA annotations, KServe and CI
    ServiceAccounts, token RBAC; cluster-wide: the ALB Ingress and machine-token auth;
    and the EKS access entry that maps the deploy role to the token-minting group."""

    def __init__(
        self, name: str, args: KubeflowObjectsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("kfops:kubeflow:KubeflowObjects", name, None, opts)
        cfg, cluster = args.config, args.cluster
        self.provider = k8s.Provider(
            f"{name}-cluster",
            kubeconfig=cluster.kubeconfig(cfg.region),
            # pulumi-kubernetes >= 4.29 creates client-side and fails with AlreadyExists on an
            # object that exists (its CHANGELOG, pull request #4278) unless this is set. The
            # PodDefault `access-ml-pipeline` is often created by hand (Kubeflow's docs show
            # it), and any object may have been applied from manifests/: adopt it, never fail
            # the `up`. Safe here because every object's Pulumi name is its identity
            # (resource_name), so no rename can adopt and then delete one object.
            upsert_existing_objects=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, provider=self.provider)
        aws.eks.AccessEntry(
            f"{name}-deployers",
            cluster_name=cluster.name,
            principal_arn=args.deploy_role_arn,
            kubernetes_groups=[DEPLOYERS_GROUP],
            type="STANDARD",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.objects: list[pulumi.CustomResource] = []
        for namespace in cfg.profile_namespaces:
            values = objects.ProfileValues(
                namespace=namespace,
                pipeline_root=args.pipeline_roots[namespace],  # type: ignore[arg-type]  # an Output
                ci_service_account=cfg.ci_service_account,
                kserve_service_account=cfg.kserve_service_account,
                region=cfg.region,
                pipeline_role_arn=args.pipeline_role_arns[namespace],  # type: ignore[arg-type]
                kserve_role_arn=args.kserve_role_arns[namespace],  # type: ignore[arg-type]
                s3_endpoint=f"s3.{cfg.region}.amazonaws.com",
            )
            for obj in objects.profile_objects(values, aws=True):
                self.objects.append(apply_object(resource_name(obj), obj, child))
        edge = objects.EdgeValues(
            hostname=cfg.hostname,
            certificate_arn=cfg.certificate_arn,
            allowed_cidrs=cfg.allowed_cidrs,
            scheme=cfg.load_balancer_scheme,
            waf_acl_arn=cfg.waf_acl_arn,
            issuer_url=cluster.issuer_url,
        )
        for obj in objects.edge_objects(edge):
            self.objects.append(apply_object(resource_name(obj, edge=True), obj, child))
        self.kfp_url = f"https://{cfg.hostname}/pipeline"
        self.register_outputs({"kfpUrl": self.kfp_url})
