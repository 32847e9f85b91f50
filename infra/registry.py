"""Container registry: one ECR repository per component (names from ``components/``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.images import component_names, repository


@dataclass(frozen=True)
class RegistryArgs:
    """Settings of the registry.

    Attributes:
        image_retention_count: Tagged images kept per repository.
        untagged_image_days: Days before untagged images expire.
        kms_key_arn: Encrypt with this KMS key ("" means AES256).
    """

    image_retention_count: int
    untagged_image_days: int
    kms_key_arn: str


def lifecycle_policy(untagged_days: int, keep: int) -> str:
    """ECR lifecycle rules: expire untagged images, keep the newest ``keep`` tagged ones."""
    rules = [
        {
            "rulePriority": 1,
            "description": f"expire untagged images after {untagged_days} days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": untagged_days,
            },
            "action": {"type": "expire"},
        },
        {
            # "any" must be the last rule (highest priority number) in ECR
            "rulePriority": 2,
            "description": f"keep the newest {keep} images",
            "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
            "action": {"type": "expire"},
        },
    ]
    return json.dumps({"rules": rules})


class Registry(pulumi.ComponentResource):
    """ECR repositories: immutable tags (content-hash tags never move), scan on push, lifecycle."""

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kfops:registry:Registry", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        encryption: aws.ecr.RepositoryEncryptionConfigurationArgsDict = (
            {"encryption_type": "KMS", "kms_key": args.kms_key_arn}
            if args.kms_key_arn
            else {"encryption_type": "AES256"}
        )
        self.repositories: dict[str, aws.ecr.Repository] = {}
        for component in component_names():
            repo = aws.ecr.Repository(
                repository(component),
                name=repository(component),
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration={"scan_on_push": True},
                encryption_configurations=[encryption],
                opts=child,
            )
            aws.ecr.LifecyclePolicy(
                f"{repository(component)}-lifecycle",
                repository=repo.name,
                policy=lifecycle_policy(args.untagged_image_days, args.image_retention_count),
                opts=child,
            )
            self.repositories[component] = repo
        self.arns = pulumi.Output.all(*[r.arn for r in self.repositories.values()])
        first = next(iter(self.repositories.values()))
        # <account>.dkr.ecr.<region>.amazonaws.com: what KFOPS_IMAGE_REGISTRY is set to
        self.registry_host = first.repository_url.apply(lambda url: url.split("/", 1)[0])
        self.register_outputs({"registry": self.registry_host})
