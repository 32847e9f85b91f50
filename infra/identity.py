"""Identity without long-lived keys: IRSA roles for pods, GitHub OIDC roles for CI."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.shared.names import IMAGE_PREFIX, PIPELINE_SERVICE_ACCOUNT
from infra import policies
from infra.config import InfraConfig

GITHUB_ISSUER = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
# EKS access policies of the infrastructure roles: `pulumi up` applies Kubernetes objects
# cluster-wide (Ingress, RequestAuthentication, RBAC in every profile namespace); a preview
# only reads (the Kubernetes provider falls back to a client-side diff when the server-side
# dry run, which needs `patch`, is refused).
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
CLUSTER_VIEW_POLICY = "AmazonEKSViewPolicy"


@dataclass(frozen=True)
class IdentityArgs:
    """Inputs of the identity component.

    Attributes:
        config: Stack settings.
        bucket_arn: The artifact store.
        repository_arns: This project's ECR repositories.
        cluster_arn: The EKS cluster.
        cluster_issuer: The cluster's OIDC issuer without ``https://``.
        cluster_provider_arn: The IAM OIDC provider of that issuer.
    """

    config: InfraConfig
    bucket_arn: pulumi.Output[str]
    repository_arns: pulumi.Output[list[str]]
    cluster_arn: str
    cluster_issuer: str
    cluster_provider_arn: str


def _json(builder: Callable[..., dict[str, Any]], *values: Any) -> pulumi.Output[str]:
    return pulumi.Output.all(*values).apply(lambda resolved: json.dumps(builder(*resolved)))


def _access_policy_arn(partition: str, policy: str) -> str:
    return f"arn:{partition}:eks::aws:cluster-access-policy/{policy}"


def _infra_scope(cfg: InfraConfig, cluster_arn: str) -> policies.InfraScope:
    """ARNs and name patterns of what this stack's infrastructure roles may touch.

    Everything is this stack's: roles and access entries named ``kfops-<stack>-*``, its own
    state files, its bucket; the shared registry only in the stack that owns it.
    """
    _, partition, _, region, account, _ = cluster_arn.split(":", 5)
    state_bucket = cfg.pulumi_state_bucket or f"kfops-pulumi-state-{account}"
    return policies.InfraScope(
        state_bucket_arn=f"arn:{partition}:s3:::{state_bucket}",
        state_keys=policies.pulumi_state_keys(cfg.project, cfg.stack),
        secrets_key_arns=f"arn:{partition}:kms:{region}:{account}:key/*",
        secrets_key_alias=cfg.pulumi_secrets_key_alias,
        cluster_arn=cluster_arn,
        access_entries_arn=(
            f"arn:{partition}:eks:{region}:{account}:access-entry/{cfg.cluster_name}/role/{account}/{cfg.role_prefix}-*"
        ),
        cluster_access_policy_arns=tuple(
            _access_policy_arn(partition, p) for p in (CLUSTER_ADMIN_POLICY, CLUSTER_VIEW_POLICY)
        ),
        roles_arn=f"arn:{partition}:iam::{account}:role/{cfg.role_prefix}-*",
        oidc_provider_arn=(
            ""
            if cfg.github_oidc_provider_arn
            else f"arn:{partition}:iam::{account}:oidc-provider/{GITHUB_ISSUER}"
        ),
        repositories_arn=(
            f"arn:{partition}:ecr:{region}:{account}:repository/{IMAGE_PREFIX}*" if cfg.ecr_owner else ""
        ),
        encryption_key_arn=cfg.kms_key_arn,
    )


def _store_access(cfg: InfraConfig, namespace: str) -> Callable[[str], policies.StoreAccess]:
    """One namespace's store scope (``<storePrefix>/<namespace>``), given the bucket's ARN."""
    prefix = cfg.namespace_store(namespace)
    return lambda bucket_arn: policies.StoreAccess(bucket_arn, prefix, cfg.kms_key_arn, cfg.region)


def _github_trust(provider_arn: pulumi.Input[str], subject: str) -> pulumi.Output[str]:
    """Trust policy for GitHub Actions OIDC tokens of exactly one ``sub`` (repo and branch/environment/PR)."""
    return _json(
        lambda arn: policies.web_identity_trust(arn, GITHUB_ISSUER, subject, STS_AUDIENCE), provider_arn
    )


class Identity(pulumi.ComponentResource):
    """IAM roles, each trusted by exactly one identity and allowed exactly its job.

    * per profile namespace: ``default-editor`` (pipeline pods) and KServe's
      ServiceAccount, through IRSA (``StringEquals`` on ``sub`` and ``aud``), each reaching
      only that namespace's store (``<storePrefix>/<namespace>``);
    * GitHub Actions through OIDC: a deploy role for one environment or branch,
      a read-only role for pull requests;
    * ``pulumi`` from GitHub Actions (``.github/workflows/infra.yml``): ``infra-preview``
      for pull requests (read only) and ``infra-apply`` for the jobs of one environment
      (``infra-<stack>``), each with an EKS access entry (view / cluster admin).

    Every role is named ``kfops-<stack>-<suffix>`` (logical name ``<name>-<suffix>``), so two
    stacks share an account without a name collision and each stack's ``infra-apply`` is
    scoped to its own roles.
    """

    def __init__(self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kfops:identity:Identity", name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        self._name = name
        cfg = args.config
        self._config = cfg
        self.pipeline_roles: dict[str, aws.iam.Role] = {}
        self.kserve_roles: dict[str, aws.iam.Role] = {}
        for namespace in cfg.profile_namespaces:
            team = _store_access(cfg, namespace)  # this namespace's store only
            self.pipeline_roles[namespace] = self._irsa_role(
                f"pipelines-{namespace}",
                args,
                namespace,
                PIPELINE_SERVICE_ACCOUNT,
                _json(lambda arn, team=team: policies.pipeline_pods(team(arn)), args.bucket_arn),
            )
            self.kserve_roles[namespace] = self._irsa_role(
                f"kserve-{namespace}",
                args,
                namespace,
                cfg.kserve_service_account,
                _json(lambda arn, team=team: policies.kserve_models(team(arn)), args.bucket_arn),
            )
        # CI gates, promotes and deploys in one namespace (kfops:ciNamespace): its store only.
        store = _store_access(cfg, cfg.ci_namespace)
        provider_arn = self._github_provider(name, cfg)
        self.deploy_role = self._role(
            "github-deploy",
            _github_trust(provider_arn, cfg.deploy_subject),
            _json(
                lambda arn, repos, cluster: policies.deploy(store(arn), repos, cluster, push=cfg.push_images),
                args.bucket_arn,
                args.repository_arns,
                args.cluster_arn,
            ),
            "GitHub Actions deploys from " + cfg.deploy_subject,
        )
        scope = _infra_scope(cfg, args.cluster_arn)
        partition = args.cluster_arn.split(":")[1]
        # Roles trusted by pull requests only where PRs use them (kfops:pullRequestRoles):
        # gate.yml and infra.yml's preview use the dev stack's; prod trusts no PR token.
        self.pull_request_role: aws.iam.Role | None = None
        self.infra_preview_role: aws.iam.Role | None = None
        if cfg.pull_request_roles:
            self.pull_request_role = self._role(
                "github-pull-requests",
                _github_trust(provider_arn, cfg.pull_request_subject),
                _json(
                    lambda arn, repos: policies.pull_request_checks(store(arn), repos),
                    args.bucket_arn,
                    args.repository_arns,
                ),
                "GitHub Actions pull-request checks (read only)",
            )
            self.infra_preview_role = self._role(
                "infra-preview",
                _github_trust(provider_arn, cfg.pull_request_subject),
                pulumi.Output.from_input(json.dumps(policies.infra_preview(scope))),
                "GitHub Actions pulumi preview on pull requests (read only)",
            )
            self._cluster_access(
                f"{name}-infra-preview",
                cfg,
                self.infra_preview_role,
                _access_policy_arn(partition, CLUSTER_VIEW_POLICY),
            )
        self.infra_apply_role = self._role(
            "infra-apply",
            _github_trust(provider_arn, cfg.infra_apply_subject),
            _json(lambda bucket: policies.infra_apply(scope, bucket), args.bucket_arn),
            "GitHub Actions pulumi up from " + cfg.infra_apply_subject,
        )
        self._cluster_access(
            f"{name}-infra-apply",
            cfg,
            self.infra_apply_role,
            _access_policy_arn(partition, CLUSTER_ADMIN_POLICY),
        )
        self.register_outputs(
            {
                "deployRoleArn": self.deploy_role.arn,
                **(
                    {
                        "pullRequestRoleArn": self.pull_request_role.arn,
                        "infraPreviewRoleArn": self.infra_preview_role.arn,
                    }
                    if self.pull_request_role and self.infra_preview_role
                    else {}
                ),
                "infraApplyRoleArn": self.infra_apply_role.arn,
            }
        )

    def _github_provider(self, name: str, cfg: InfraConfig) -> pulumi.Output[str]:
        if cfg.github_oidc_provider_arn:  # an account has one provider per URL: reuse it
            return pulumi.Output.from_input(cfg.github_oidc_provider_arn)
        # One per account, trusted by every stack's roles: retained if this stack goes away.
        provider = aws.iam.OpenIdConnectProvider(
            f"{name}-github",
            url=f"https://{GITHUB_ISSUER}",
            client_id_lists=[STS_AUDIENCE],
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        return provider.arn

    def _irsa_role(
        self,
        suffix: str,
        args: IdentityArgs,
        namespace: str,
        service_account: str,
        policy: pulumi.Output[str],
    ) -> aws.iam.Role:
        subject = f"system:serviceaccount:{namespace}:{service_account}"
        trust = _json(
            lambda provider, issuer: policies.web_identity_trust(provider, issuer, subject, STS_AUDIENCE),
            args.cluster_provider_arn,
            args.cluster_issuer,
        )
        return self._role(suffix, trust, policy, f"IRSA for {namespace}/{service_account}")

    def _cluster_access(self, name: str, cfg: InfraConfig, role: aws.iam.Role, policy_arn: str) -> None:
        """An EKS access entry for ``role`` with one cluster-wide access policy."""
        entry = aws.eks.AccessEntry(
            f"{name}-access",
            cluster_name=cfg.cluster_name,
            principal_arn=role.arn,
            type="STANDARD",
            opts=self._child,
        )
        aws.eks.AccessPolicyAssociation(
            f"{name}-access-policy",
            cluster_name=cfg.cluster_name,
            principal_arn=entry.principal_arn,
            policy_arn=policy_arn,
            access_scope={"type": "cluster"},
            opts=self._child,
        )

    def _role(
        self, suffix: str, trust: pulumi.Output[str], policy: pulumi.Output[str], description: str
    ) -> aws.iam.Role:
        name = f"{self._name}-{suffix}"  # logical name, unchanged across stacks
        role = aws.iam.Role(
            name,
            name=f"{self._config.role_prefix}-{suffix}",  # physical name: kfops-<stack>-<suffix>
            assume_role_policy=trust,
            description=description,
            max_session_duration=3600,
            opts=self._child,
        )
        aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=policy, opts=self._child)
        return role
