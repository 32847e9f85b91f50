"""Statements on one store: its prefixes in the artifact bucket and, with SSE-KMS, its key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StoreAccess:
    """Where a role's store access points: one bucket, the store's prefix in it, its KMS key.

    Attributes:
        bucket_arn: The artifact bucket.
        prefix: The store's root inside the bucket ("" for the bucket root, else e.g. ``ml``):
            every object ARN and ``s3:prefix`` value is under it, as ``open_store`` reads
            ``s3://bucket/<prefix>``.
        kms_key_arn: The bucket's KMS key ("" for SSE-S3).
        region: The bucket's region (``kms:ViaService`` names S3 in it).
    """

    bucket_arn: str
    prefix: str = ""
    kms_key_arn: str = ""
    region: str = ""

    def path(self, area: str) -> str:
        """The key prefix of one store area (``ml/models``, or ``models`` at the root)."""
        return f"{self.prefix}/{area}" if self.prefix else area


def list_prefixes(sid: str, store: StoreAccess, prefixes: tuple[str, ...]) -> dict[str, Any]:
    """``s3:ListBucket`` on the bucket, limited to keys under ``prefixes`` of the store."""
    # s3:prefix is what ListObjects(V2) sends as Prefix; S3 authorizes HeadBucket as a
    # ListBucket without one, so the store never probes with HeadBucket (components/shared/store.py).
    paths = [store.path(p) for p in prefixes]
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": store.bucket_arn,
        "Condition": {"StringLike": {"s3:prefix": [f"{p}/*" for p in paths] + [f"{p}/" for p in paths]}},
    }


def object_arns(store: StoreAccess, prefixes: tuple[str, ...]) -> list[str]:
    """ARN patterns of every object under ``prefixes`` of the store."""
    return [f"{store.bucket_arn}/{store.path(p)}/*" for p in prefixes]


def store_key_statements(sid: str, store: StoreAccess, *, write: bool) -> list[dict[str, Any]]:
    """With SSE-KMS, S3 calls KMS as the caller: GenerateDataKey to write, Decrypt to read.

    Only through S3 in the bucket's region (``kms:ViaService``): the role cannot use the
    key directly. The key policy must let IAM policies grant it (docs/runbook.md).
    """
    if not store.kms_key_arn:
        return []
    return [
        {
            "Sid": sid,
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"] if write else "kms:Decrypt",
            "Resource": store.kms_key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"s3.{store.region}.amazonaws.com"}},
        }
    ]
