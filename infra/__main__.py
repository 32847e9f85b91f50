"""kfops infrastructure on an existing EKS cluster running Kubeflow: composition only.

Run with ``pulumi up`` (see docs/runbook.md). Every resource lives in a
component of its own; this file reads the config once, wires the components and
exports what CI and users need.
"""

import pulumi

from infra.cluster import lookup_cluster
from infra.config import ConfigError, load_config
from infra.identity import Identity, IdentityArgs
from infra.kubernetes import KubeflowObjects, KubeflowObjectsArgs
from infra.registry import Registry, RegistryArgs
from infra.storage import ArtifactStore, ArtifactStoreArgs

try:
    config = load_config(
        pulumi.Config("kfops"), pulumi.Config("aws").get("region"), pulumi.get_stack(), pulumi.get_project()
    )
except ConfigError as error:
    raise pulumi.RunError(str(error)) from None

store = ArtifactStore(
    "kfops-artifacts",
    ArtifactStoreArgs(config.kms_key_arn, config.noncurrent_version_days, config.abort_multipart_days),
)
# One store per profile namespace, s3://<bucket>/<storePrefix>/<namespace>: that namespace's
# roles reach only it, and its KFP pipeline root is the store's `pipelines/` area.
store_uris = {
    ns: pulumi.Output.concat(store.uri, "/", config.namespace_store(ns)) for ns in config.profile_namespaces
}
pipeline_roots = {ns: pulumi.Output.concat(uri, "/pipelines") for ns, uri in store_uris.items()}
cluster = lookup_cluster(config.cluster_name)
registry = Registry(
    "kfops-images",
    RegistryArgs(
        owner=config.ecr_owner,
        untagged_image_days=config.untagged_image_days,
        kms_key_arn=config.kms_key_arn,
        partition=cluster.partition,
        region=config.region,
        account=cluster.account,
    ),
)
identity = Identity(
    "kfops",
    IdentityArgs(
        config=config,
        bucket_arn=store.bucket.arn,
        repository_arns=registry.arns,
        cluster_arn=cluster.arn,
        cluster_issuer=cluster.issuer,
        cluster_provider_arn=cluster.provider_arn,
    ),
)

kubeflow = KubeflowObjects(
    "kfops-kubeflow",
    KubeflowObjectsArgs(
        config=config,
        cluster=cluster,
        pipeline_roots=pipeline_roots,
        pipeline_role_arns={ns: role.arn for ns, role in identity.pipeline_roles.items()},
        kserve_role_arns={ns: role.arn for ns, role in identity.kserve_roles.items()},
        deploy_role_arn=identity.deploy_role.arn,
    ),
)

pulumi.export("kfpUrl", kubeflow.kfp_url)  # KFP API for `kfops deploy --host`
pulumi.export("bucket", store.bucket.bucket)
pulumi.export("storeUri", store_uris[config.ci_namespace])  # KFOPS_STORE: CI's namespace (ciNamespace)
pulumi.export("storeUris", store_uris)  # per profile namespace (each team's store)
pulumi.export("pipelineRoots", pipeline_roots)  # each namespace's kfp-launcher defaultPipelineRoot
pulumi.export("imageRegistry", registry.registry_host)  # KFOPS_IMAGE_REGISTRY
pulumi.export("deployRoleArn", identity.deploy_role.arn)  # KFOPS_APPLY_ROLE_ARN
if identity.pull_request_role and identity.infra_preview_role:  # kfops:pullRequestRoles
    pulumi.export("pullRequestRoleArn", identity.pull_request_role.arn)  # KFOPS_GATE_ROLE_ARN
    pulumi.export("infraPreviewRoleArn", identity.infra_preview_role.arn)  # KFOPS_INFRA_PREVIEW_ROLE_ARN
pulumi.export("infraApplyRoleArn", identity.infra_apply_role.arn)  # KFOPS_INFRA_APPLY_ROLE_ARN (environment)
pulumi.export("pipelineRoleArns", {ns: role.arn for ns, role in identity.pipeline_roles.items()})
pulumi.export("kserveRoleArns", {ns: role.arn for ns, role in identity.kserve_roles.items()})
