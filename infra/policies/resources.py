"""Policies attached to resources rather than roles: the bucket's, the store key's, role trust."""

from __future__ import annotations

from typing import Any

from infra.policies.documents import Policy, document


def store_key_policy_statement(account: str, region: str) -> dict[str, Any]:
    """The statement the bucket's KMS key policy needs (the key is not this program's).

    A key policy must let IAM policies grant use of the key; this does it for exactly the
    two actions S3 makes on a caller's behalf, and only through S3 in the bucket's region,
    so the roles' own statements (``UseStoreKeyThroughS3``/``ReadStoreKeyThroughS3``) decide
    who may. docs/runbook.md shows it for the example stack; tests/iam checks both.
    """
    return {
        "Sid": "AllowAccountIamPoliciesToUseKeyThroughS3",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com", "kms:CallerAccount": account}
        },
    }


def deny_insecure_transport(bucket_arn: str) -> Policy:
    """Bucket policy: refuse every request that does not use TLS."""
    return document(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


def web_identity_trust(provider_arn: str, issuer: str, subject: str, audience: str) -> Policy:
    """Trust policy for ``AssumeRoleWithWebIdentity`` with ``StringEquals`` on ``aud`` and ``sub``.

    Args:
        provider_arn: The IAM OIDC provider.
        issuer: Issuer host and path without ``https://`` (the condition-key prefix).
        subject: The one allowed ``sub`` (an exact match, never a wildcard): each role is
            trusted by exactly one identity.
        audience: Required ``aud``.
    """
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    f"{issuer}:aud": audience,
                    f"{issuer}:sub": subject,
                }
            },
        }
    )
