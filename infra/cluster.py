"""Facts about the existing EKS cluster (looked up, never created here)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class ClusterFacts:
    """The cluster's ARN and OIDC issuer, and the IAM provider IRSA trusts."""

    arn: pulumi.Output[str]
    issuer: pulumi.Output[str]
    provider_arn: pulumi.Output[str]


def lookup_cluster(name: str) -> ClusterFacts:
    """Read the cluster's identity facts (``eks:DescribeCluster``, ``sts:GetCallerIdentity``).

    The cluster's IAM OIDC provider must already exist (``eksctl utils
    associate-iam-oidc-provider``, as every IRSA set-up requires).
    """
    cluster = aws.eks.get_cluster_output(name=name)
    issuer = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer.removeprefix("https://"))
    account = aws.get_caller_identity_output().account_id
    partition = aws.get_partition_output().partition
    provider_arn = pulumi.Output.concat("arn:", partition, ":iam::", account, ":oidc-provider/", issuer)
    return ClusterFacts(arn=cluster.arn, issuer=issuer, provider_arn=provider_arn)
