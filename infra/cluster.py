"""Facts about the existing EKS cluster (looked up, never created here)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi_aws as aws


@dataclass(frozen=True)
class ClusterFacts:
    """The cluster's identity and endpoint, as plain strings (looked up once at start).

    Attributes:
        name: Cluster name.
        arn: Cluster ARN.
        endpoint: API server URL.
        certificate_authority: Base64 CA bundle of the API server.
        issuer_url: OIDC issuer URL (``https://...``).
        issuer: The issuer without ``https://`` (IAM condition-key prefix).
        provider_arn: The IAM OIDC provider IRSA trusts.
        account: The account id (of the caller, which is the cluster's).
        partition: The AWS partition (``aws``).
    """

    name: str
    arn: str
    endpoint: str
    certificate_authority: str
    issuer_url: str
    issuer: str
    provider_arn: str
    account: str = ""
    partition: str = "aws"

    def kubeconfig(self, region: str) -> str:
        """A kubeconfig that authenticates with ``aws eks get-token`` (no stored credentials)."""
        return json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": self.name,
                        "cluster": {
                            "server": self.endpoint,
                            "certificate-authority-data": self.certificate_authority,
                        },
                    }
                ],
                "contexts": [{"name": self.name, "context": {"cluster": self.name, "user": self.name}}],
                "current-context": self.name,
                "users": [
                    {
                        "name": self.name,
                        "user": {
                            "exec": {
                                "apiVersion": "client.authentication.k8s.io/v1beta1",
                                "command": "aws",
                                "args": ["eks", "get-token", "--cluster-name", self.name, "--region", region],
                            }
                        },
                    }
                ],
            }
        )


def lookup_cluster(name: str) -> ClusterFacts:
    """Read the cluster's facts (``eks:DescribeCluster``, ``sts:GetCallerIdentity``).

    The cluster's IAM OIDC provider must already exist (``eksctl utils
    associate-iam-oidc-provider``, as every IRSA set-up requires).
    """
    cluster = aws.eks.get_cluster(name=name)
    issuer_url = cluster.identities[0].oidcs[0].issuer
    issuer = issuer_url.removeprefix("https://")
    account = aws.get_caller_identity().account_id
    partition = aws.get_partition().partition
    return ClusterFacts(
        name=name,
        arn=cluster.arn,
        endpoint=cluster.endpoint,
        certificate_authority=cluster.certificate_authorities[0].data,
        issuer_url=issuer_url,
        issuer=issuer,
        provider_arn=f"arn:{partition}:iam::{account}:oidc-provider/{issuer}",
        account=account,
        partition=partition,
    )
