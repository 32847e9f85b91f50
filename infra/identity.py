"""Identity without long-lived keys: IRSA roles for pods, GitHub OIDC roles for CI."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import policies
from infra.config import InfraConfig

GITHUB_ISSUER = "token.actions.githubusercontent.com"
STS_AUDIENCE = "sts.amazonaws.com"
PIPELINE_SERVICE_ACCOUNT = "default-editor"  # what Kubeflow runs pipeline pods as, per profile


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


class Identity(pulumi.ComponentResource):
    """IAM roles, each trusted by exactly one identity and allowed exactly its job.

    * per profile namespace: ``default-editor`` (pipeline pods) and KServe's
      ServiceAccount, through IRSA (``StringEquals`` on ``sub`` and ``aud``);
    * GitHub Actions through OIDC: a deploy role for one environment or branch,
      a read-only role for pull requests.
    """

    def __init__(self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kfops:identity:Identity", name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        cfg = args.config
        self.pipeline_roles: dict[str, aws.iam.Role] = {}
        self.kserve_roles: dict[str, aws.iam.Role] = {}
        for namespace in cfg.profile_namespaces:
            self.pipeline_roles[namespace] = self._irsa_role(
                f"{name}-pipelines-{namespace}",
                args,
                namespace,
                PIPELINE_SERVICE_ACCOUNT,
                _json(policies.pipeline_pods, args.bucket_arn),
            )
            self.kserve_roles[namespace] = self._irsa_role(
                f"{name}-kserve-{namespace}",
                args,
                namespace,
                cfg.kserve_service_account,
                _json(policies.kserve_models, args.bucket_arn),
            )
        provider_arn = self._github_provider(name, cfg)
        self.deploy_role = self._role(
            f"{name}-github-deploy",
            _json(
                lambda arn: policies.web_identity_trust(
                    arn, GITHUB_ISSUER, [cfg.deploy_subject], STS_AUDIENCE
                ),
                provider_arn,
            ),
            _json(policies.deploy, args.bucket_arn, args.repository_arns, args.cluster_arn),
            "GitHub Actions deploys from " + cfg.deploy_subject,
        )
        self.pull_request_role = self._role(
            f"{name}-github-pull-requests",
            _json(
                lambda arn: policies.web_identity_trust(
                    arn, GITHUB_ISSUER, [cfg.pull_request_subject], STS_AUDIENCE
                ),
                provider_arn,
            ),
            _json(policies.pull_request_checks, args.bucket_arn, args.repository_arns),
            "GitHub Actions pull-request checks (read only)",
        )
        self.register_outputs(
            {
                "deployRoleArn": self.deploy_role.arn,
                "pullRequestRoleArn": self.pull_request_role.arn,
            }
        )

    def _github_provider(self, name: str, cfg: InfraConfig) -> pulumi.Output[str]:
        if cfg.github_oidc_provider_arn:  # an account has one provider per URL: reuse it
            return pulumi.Output.from_input(cfg.github_oidc_provider_arn)
        provider = aws.iam.OpenIdConnectProvider(
            f"{name}-github",
            url=f"https://{GITHUB_ISSUER}",
            client_id_lists=[STS_AUDIENCE],
            opts=self._child,
        )
        return provider.arn

    def _irsa_role(
        self, name: str, args: IdentityArgs, namespace: str, service_account: str, policy: pulumi.Output[str]
    ) -> aws.iam.Role:
        subject = f"system:serviceaccount:{namespace}:{service_account}"
        trust = _json(
            lambda provider, issuer: policies.web_identity_trust(provider, issuer, [subject], STS_AUDIENCE),
            args.cluster_provider_arn,
            args.cluster_issuer,
        )
        return self._role(name, trust, policy, f"IRSA for {namespace}/{service_account}")

    def _role(
        self, name: str, trust: pulumi.Output[str], policy: pulumi.Output[str], description: str
    ) -> aws.iam.Role:
        role = aws.iam.Role(
            name,
            assume_role_policy=trust,
            description=description,
            max_session_duration=3600,
            opts=self._child,
        )
        aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=policy, opts=self._child)
        return role
