"""IAM policy documents, as plain dicts built from plain strings (no Pulumi, easy to lint).

Each permission policy is as narrow as its job: object actions on named prefixes
of one bucket, ``ListBucket`` limited to those prefixes, ECR actions on this
project's repositories. The one wildcard resource is ``ecr:GetAuthorizationToken``,
which AWS only accepts on ``*``.
"""

from __future__ import annotations

from typing import Any

from components.shared.store import LAYOUT

Policy = dict[str, Any]

#: Prefixes pipeline pods read and write (KFP's root, then the store layout).
PIPELINE_PREFIXES = (LAYOUT.pipelines, LAYOUT.data, LAYOUT.models, LAYOUT.metrics, LAYOUT.predictions)


def _document(*statements: dict[str, Any]) -> Policy:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _list_prefixes(sid: str, bucket_arn: str, prefixes: tuple[str, ...]) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": bucket_arn,
        "Condition": {
            "StringLike": {"s3:prefix": [f"{p}/*" for p in prefixes] + [f"{p}/" for p in prefixes]}
        },
    }


def _objects(bucket_arn: str, prefixes: tuple[str, ...]) -> list[str]:
    return [f"{bucket_arn}/{p}/*" for p in prefixes]


def pipeline_pods(bucket_arn: str) -> Policy:
    """IRSA policy of ``default-editor``: read/write the pipeline prefixes of one bucket."""
    return _document(
        _list_prefixes("ListPipelinePrefixes", bucket_arn, PIPELINE_PREFIXES),
        {
            "Sid": "ReadWritePipelineObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": _objects(bucket_arn, PIPELINE_PREFIXES),
        },
    )


def kserve_models(bucket_arn: str) -> Policy:
    """IRSA policy of KServe's ServiceAccount: read-only on ``models/``."""
    return _document(
        _list_prefixes("ListModels", bucket_arn, (LAYOUT.models,)),
        {
            "Sid": "ReadModels",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": _objects(bucket_arn, (LAYOUT.models,)),
        },
    )


ECR_PUSH_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
]


def deploy(bucket_arn: str, repository_arns: list[str], cluster_arn: str) -> Policy:
    """The ``main`` workflow's role: push images, record runs and baselines, find the cluster.

    ``models/`` is writable because the main workflow's gate run stores the model
    version its baseline points at (immutable keys, conditional puts).
    """
    return _document(
        {
            "Sid": "EcrLogin",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",  # AWS accepts no narrower resource for this action
        },
        {
            "Sid": "PushComponentImages",
            "Effect": "Allow",
            "Action": ECR_PUSH_ACTIONS,
            "Resource": repository_arns,
        },
        _list_prefixes("ListRunPrefixes", bucket_arn, (LAYOUT.metrics, LAYOUT.models)),
        {
            "Sid": "ReadWriteMetrics",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": _objects(bucket_arn, (LAYOUT.metrics,)),
        },
        {
            "Sid": "StoreModelVersions",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": _objects(bucket_arn, (LAYOUT.models,)),
        },
        {"Sid": "FindCluster", "Effect": "Allow", "Action": "eks:DescribeCluster", "Resource": cluster_arn},
    )


def pull_request_checks(bucket_arn: str, repository_arns: list[str]) -> Policy:
    """Pull requests' role: read baselines and evaluation records; see which images exist."""
    return _document(
        _list_prefixes("ListMetrics", bucket_arn, (LAYOUT.metrics,)),
        {
            "Sid": "ReadMetrics",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": _objects(bucket_arn, (LAYOUT.metrics,)),
        },
        {"Sid": "SeeImages", "Effect": "Allow", "Action": "ecr:DescribeImages", "Resource": repository_arns},
    )


def deny_insecure_transport(bucket_arn: str) -> Policy:
    """Bucket policy: refuse every request that does not use TLS."""
    return _document(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


def web_identity_trust(provider_arn: str, issuer: str, subjects: list[str], audience: str) -> Policy:
    """Trust policy for ``AssumeRoleWithWebIdentity`` with ``StringEquals`` on ``aud`` and ``sub``.

    Args:
        provider_arn: The IAM OIDC provider.
        issuer: Issuer host and path without ``https://`` (the condition-key prefix).
        subjects: Allowed ``sub`` values (exact matches, never wildcards).
        audience: Required ``aud``.
    """
    return _document(
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{issuer}:aud": audience,
                    f"{issuer}:sub": subjects[0] if len(subjects) == 1 else subjects,
                }
            },
        }
    )
