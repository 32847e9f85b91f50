"""Policies of the GitHub Actions roles that run kfops: deploy (``main.yml``) and pull requests."""

from __future__ import annotations

from typing import Any

from components.shared.names import LAYOUT
from infra.policies.documents import Policy, document
from infra.policies.store import StoreAccess, list_prefixes, object_arns, store_key_statements

ECR_PUSH_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:DescribeImages",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
]


def deploy(store: StoreAccess, repository_arns: list[str], cluster_arn: str, *, push: bool) -> Policy:
    """The ``main`` workflow's role: push images, record runs and baselines, find the cluster.

    ``models/`` is writable because the main workflow's gate run stores the model
    version its baseline points at (immutable keys, conditional puts). With ``push`` false
    (a stack that deploys what another stack built, e.g. prod) the role only sees which
    images exist (``kfops deploy`` refuses a version whose image is missing): the registry
    is shared, and that stack never writes to it.
    """
    images: list[dict[str, Any]] = (
        [
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
        ]
        if push
        else [
            {
                "Sid": "SeeImages",
                "Effect": "Allow",
                "Action": "ecr:DescribeImages",
                "Resource": repository_arns,
            }
        ]
    )
    return document(
        *images,
        list_prefixes("ListRunPrefixes", store, (LAYOUT.metrics, LAYOUT.models)),
        {
            "Sid": "ReadWriteMetrics",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": object_arns(store, (LAYOUT.metrics,)),
        },
        {
            "Sid": "StoreModelVersions",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": object_arns(store, (LAYOUT.models,)),
        },
        *store_key_statements("UseStoreKeyThroughS3", store, write=True),
        {"Sid": "FindCluster", "Effect": "Allow", "Action": "eks:DescribeCluster", "Resource": cluster_arn},
    )


def pull_request_checks(store: StoreAccess, repository_arns: list[str]) -> Policy:
    """Pull requests' role: read baselines and evaluation records; see which images exist."""
    return document(
        list_prefixes("ListMetrics", store, (LAYOUT.metrics,)),
        {
            "Sid": "ReadMetrics",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": object_arns(store, (LAYOUT.metrics,)),
        },
        *store_key_statements("ReadStoreKeyThroughS3", store, write=False),
        {"Sid": "SeeImages", "Effect": "Allow", "Action": "ecr:DescribeImages", "Resource": repository_arns},
    )
