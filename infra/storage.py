"""The artifact store: one hardened, versioned S3 bucket with the kfops layout."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import policies

_EncryptionDefault = (
    aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgsDict
)


@dataclass(frozen=True)
class ArtifactStoreArgs:
    """Settings of the artifact store.

    Attributes:
        kms_key_arn: Encrypt with this KMS key ("" means SSE-S3, AES256).
        noncurrent_version_days: Days before noncurrent versions expire.
        abort_multipart_days: Days before incomplete multipart uploads are aborted.
    """

    kms_key_arn: str
    noncurrent_version_days: int
    abort_multipart_days: int


class ArtifactStore(pulumi.ComponentResource):
    """S3 bucket for KFP artifacts (``pipelines/``) and the kfops store (``data/``, ``models/``...).

    Versioned, encrypted, private (all four public-access blocks, ``BucketOwnerEnforced``),
    TLS-only by bucket policy, with lifecycle rules for old versions and stale uploads.
    """

    def __init__(
        self, name: str, args: ArtifactStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("kfops:storage:ArtifactStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # force_destroy stays off: a versioned store of models and metrics is retained on teardown.
        self.bucket = aws.s3.Bucket(name, bucket_prefix=f"{name}-", force_destroy=False, opts=child)
        self._harden(name, args, child)
        self.uri = pulumi.Output.concat("s3://", self.bucket.bucket)
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn, "uri": self.uri})

    def _harden(self, name: str, args: ArtifactStoreArgs, child: pulumi.ResourceOptions) -> None:
        bucket_id = self.bucket.id
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket_id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        encryption: _EncryptionDefault = (
            {"sse_algorithm": "aws:kms", "kms_master_key_id": args.kms_key_arn}
            if args.kms_key_arn
            else {"sse_algorithm": "AES256"}
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket_id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": encryption,
                    "bucket_key_enabled": bool(args.kms_key_arn),
                }
            ],
            opts=child,
        )
        public_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket_id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket_id,
            policy=self.bucket.arn.apply(lambda arn: json.dumps(policies.deny_insecure_transport(arn))),
            # the public-access block must exist first, or AWS may evaluate the policy as public
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_block]),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket_id,
            rules=[
                {
                    "id": "expire-noncurrent-versions",
                    "status": "Enabled",
                    "filter": {},
                    "noncurrent_version_expiration": {"noncurrent_days": args.noncurrent_version_days},
                },
                {
                    "id": "abort-incomplete-multipart-uploads",
                    "status": "Enabled",
                    "filter": {},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": args.abort_multipart_days},
                },
            ],
            opts=child,
        )
