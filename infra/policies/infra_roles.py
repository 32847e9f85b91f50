"""Policies of the infrastructure roles: ``pulumi preview`` (read only) and ``pulumi up``.

They follow the rule of every other role with name-prefix ARNs; ``infra_apply`` is
admin-like by nature (it writes IAM policies) and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.policies.documents import Policy, document

#: Where the Pulumi DIY backend keeps stacks, locks, history and backups in its bucket.
PULUMI_STATE_PREFIX = ".pulumi"
#: The backend's layout version file, read by every operation (written once, at bootstrap).
PULUMI_META_KEY = f"{PULUMI_STATE_PREFIX}/meta.yaml"


def pulumi_state_keys(project: str, stack: str) -> tuple[str, ...]:
    """The object keys (patterns) of one stack in a DIY backend with the project layout.

    From pulumi/pulumi ``pkg/backend/diy/store.go`` (``projectReferenceStore``: stack file
    ``.pulumi/stacks/<project>/<stack>.json`` with ``.bak``/``.gz`` variants, per-stack
    ``history``, ``backups`` and ``journal`` directories) and ``lock.go`` (locks under
    ``.pulumi/locks/<organization/project/stack>/``; the organization is always
    ``organization``). ``<stack>.json*`` does not match another stack's file, and the
    directories end in ``/``, so no pattern covers a second stack.
    """
    base = PULUMI_STATE_PREFIX
    return (
        f"{base}/stacks/{project}/{stack}.json*",
        f"{base}/history/{project}/{stack}/*",
        f"{base}/backups/{project}/{stack}/*",
        f"{base}/journal/{project}/{stack}/*",
        f"{base}/locks/organization/{project}/{stack}/*",
    )


#: What ``pulumi up`` needs on the artifact bucket: create/delete it and read/write every
#: bucket-level setting the provider reads back (no object access).
ARTIFACT_BUCKET_ACTIONS = [
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketWebsite",
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketLogging",
    "s3:GetReplicationConfiguration",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketTagging",
    "s3:PutBucketTagging",
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:GetBucketVersioning",
    "s3:PutBucketVersioning",
    "s3:GetEncryptionConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:GetBucketPublicAccessBlock",
    "s3:PutBucketPublicAccessBlock",
    "s3:GetBucketOwnershipControls",
    "s3:PutBucketOwnershipControls",
]

#: ECR repositories and their lifecycle policies (no image push or pull).
REPOSITORY_ACTIONS = [
    "ecr:CreateRepository",
    "ecr:DeleteRepository",
    "ecr:DescribeRepositories",
    "ecr:ListTagsForResource",
    "ecr:TagResource",
    "ecr:UntagResource",
    "ecr:PutImageTagMutability",
    "ecr:PutImageScanningConfiguration",
    "ecr:GetLifecyclePolicy",
    "ecr:PutLifecyclePolicy",
    "ecr:DeleteLifecyclePolicy",
]

#: IAM roles with inline policies. No ``iam:PassRole`` (nothing here hands a role to a
#: service) and no managed-policy attachment (every permission is an inline document).
ROLE_ACTIONS = [
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:GetRole",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
    "iam:UpdateAssumeRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:ListRoleTags",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:GetRolePolicy",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
]

OIDC_PROVIDER_ACTIONS = [
    "iam:CreateOpenIDConnectProvider",
    "iam:DeleteOpenIDConnectProvider",
    "iam:GetOpenIDConnectProvider",
    "iam:AddClientIDToOpenIDConnectProvider",
    "iam:RemoveClientIDFromOpenIDConnectProvider",
    "iam:UpdateOpenIDConnectProviderThumbprint",
    "iam:TagOpenIDConnectProvider",
    "iam:UntagOpenIDConnectProvider",
    "iam:ListOpenIDConnectProviderTags",
]


@dataclass(frozen=True)
class InfraScope:
    """What the infrastructure roles may touch: ARNs and ARN patterns of one stack.

    Attributes:
        state_bucket_arn: The Pulumi state bucket.
        state_keys: This stack's object keys in it (``pulumi_state_keys``).
        secrets_key_arns: KMS keys of the account and region (``.../key/*``), narrowed
            to the stack's secrets key by ``secrets_key_alias``.
        secrets_key_alias: The alias of the stack's secrets provider key.
        cluster_arn: The EKS cluster.
        access_entries_arn: Access entries of this project's roles on that cluster.
        cluster_access_policy_arns: The EKS access policies the program associates.
        roles_arn: This stack's IAM roles (``role/kfops-<stack>-*``).
        oidc_provider_arn: The GitHub OIDC provider, "" when an existing one is reused.
        repositories_arn: The shared ECR repositories (``repository/kfops-*``), "" unless this
            stack owns the registry (``kfops:ecrOwner``).
        encryption_key_arn: KMS key of the bucket and repositories, "" for AES256.
    """

    state_bucket_arn: str
    state_keys: tuple[str, ...]
    secrets_key_arns: str
    secrets_key_alias: str
    cluster_arn: str
    access_entries_arn: str
    cluster_access_policy_arns: tuple[str, ...]
    roles_arn: str
    oidc_provider_arn: str
    repositories_arn: str
    encryption_key_arn: str


def _pulumi_state(scope: InfraScope, actions: list[str]) -> list[dict[str, Any]]:
    return [
        {
            # Unconditioned: S3 answers a missing key with 404 (not 403) only to a principal
            # that may list, and the backend probes for keys; the bucket holds only state.
            "Sid": "ListPulumiState",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": scope.state_bucket_arn,
        },
        {
            # This stack's files only: another stack's state (prod's, from dev's roles) is
            # neither readable (its outputs) nor writable (its resources, through `import`).
            "Sid": "PulumiStateObjects",
            "Effect": "Allow",
            "Action": actions,
            "Resource": [f"{scope.state_bucket_arn}/{key}" for key in scope.state_keys],
        },
        {
            "Sid": "ReadPulumiBackendVersion",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"{scope.state_bucket_arn}/{PULUMI_META_KEY}",
        },
        {
            # The stack's data key was created (Encrypt) once by `pulumi stack init` on a
            # laptop; CI only decrypts it. kms:ResourceAliases picks the one key by alias.
            "Sid": "DecryptStackSecrets",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": scope.secrets_key_arns,
            "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": scope.secrets_key_alias}},
        },
        {
            "Sid": "FindCluster",
            "Effect": "Allow",
            "Action": "eks:DescribeCluster",
            "Resource": scope.cluster_arn,
        },
    ]


def infra_preview(scope: InfraScope) -> Policy:
    """``pulumi preview`` on pull requests: read the state, decrypt its secrets, find the cluster.

    A preview without ``--refresh`` diffs the program against the state and calls AWS only
    for the program's lookups (``eks:DescribeCluster``; ``sts:GetCallerIdentity`` needs no
    permission), so the role needs no read access to the managed resources themselves.
    The AWS managed ``ReadOnlyAccess`` policy would also allow ``--refresh`` (drift in the
    comment), but it lets the pull request's code read every object of every bucket in the
    account; a same-repository PR's code runs with this role, so it stays this narrow.
    Kubernetes objects are previewed through the role's EKS access entry (view only).
    """
    return document(*_pulumi_state(scope, ["s3:GetObject"]))


def infra_apply(scope: InfraScope, artifact_bucket_arn: str) -> Policy:
    """``pulumi up`` from the ``infra-*`` environments: everything the program manages.

    Admin-like by nature, and documented as such: a role that writes IAM policies for
    ``role/kfops-<stack>-*`` (itself included) and bucket policies can grant itself more. What
    bounds it: each statement names this stack's resources (the bucket by ARN, roles and
    access entries by the ``kfops-<stack>-`` prefix, its own state files; the shared
    repositories only in the owning stack; the one OIDC provider only where created); no
    ``iam:PassRole``; access entries only for this project's roles and only with the two
    access policies the program uses; and its trust (jobs of one protected environment).
    Kubernetes objects are applied through its EKS access entry (cluster admin).
    """
    statements: list[dict[str, Any]] = [
        *_pulumi_state(scope, ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]),
        {
            "Sid": "ManageArtifactBucket",
            "Effect": "Allow",
            "Action": ARTIFACT_BUCKET_ACTIONS,
            "Resource": artifact_bucket_arn,
        },
        {"Sid": "ManageProjectRoles", "Effect": "Allow", "Action": ROLE_ACTIONS, "Resource": scope.roles_arn},
        {
            "Sid": "CreateAccessEntriesForProjectRoles",
            "Effect": "Allow",
            "Action": "eks:CreateAccessEntry",
            "Resource": scope.cluster_arn,
            "Condition": {"ArnLike": {"eks:principalArn": scope.roles_arn}},
        },
        {
            "Sid": "ManageProjectAccessEntries",
            "Effect": "Allow",
            "Action": [
                "eks:DescribeAccessEntry",
                "eks:UpdateAccessEntry",
                "eks:DeleteAccessEntry",
                "eks:ListAssociatedAccessPolicies",
            ],
            "Resource": scope.access_entries_arn,
        },
        {
            "Sid": "AssociateKnownAccessPolicies",
            "Effect": "Allow",
            "Action": ["eks:AssociateAccessPolicy", "eks:DisassociateAccessPolicy"],
            "Resource": scope.access_entries_arn,
            "Condition": {"ArnEquals": {"eks:policyArn": list(scope.cluster_access_policy_arns)}},
        },
    ]
    if scope.repositories_arn:  # only the stack that owns the shared registry (kfops:ecrOwner)
        statements.append(
            {
                "Sid": "ManageComponentRepositories",
                "Effect": "Allow",
                "Action": REPOSITORY_ACTIONS,
                "Resource": scope.repositories_arn,
            }
        )
    if scope.oidc_provider_arn:
        statements.append(
            {
                "Sid": "ManageGithubOidcProvider",
                "Effect": "Allow",
                "Action": OIDC_PROVIDER_ACTIONS,
                "Resource": scope.oidc_provider_arn,
            }
        )
    if scope.encryption_key_arn and scope.repositories_arn:
        statements += [
            {
                # ECR creates a grant on the key for each repository it encrypts.
                "Sid": "GrantEncryptionKeyToAws",
                "Effect": "Allow",
                "Action": "kms:CreateGrant",
                "Resource": scope.encryption_key_arn,
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            {
                "Sid": "UseEncryptionKey",
                "Effect": "Allow",
                "Action": ["kms:DescribeKey", "kms:RetireGrant"],
                "Resource": scope.encryption_key_arn,
            },
        ]
    return document(*statements)
