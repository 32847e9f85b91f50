"""Container registry: one ECR repository per component (names from ``components/``).

One registry serves every stack of the account: the release promises that production runs
the very content-addressed images (``kfops-<name>:c-<hash>``) dev ran, so the repositories
are shared, not per stack. Exactly one stack owns them (``kfops:ecrOwner``, the reviewed
prod stack in the examples): it creates them, sets tag immutability, scanning and the
lifecycle, and retains them on ``destroy``. Every other stack only names them (same ARNs,
no resource), so its ``infra-apply`` role gets no ECR management permission at all.
"""

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
        owner: This stack creates and manages the repositories (``kfops:ecrOwner``).
        untagged_image_days: Days before untagged images expire.
        kms_key_arn: Encrypt with this KMS key ("" means AES256).
        partition: AWS partition of the account (``aws``).
        region: The registry's region.
        account: The registry's account id.
    """

    owner: bool
    untagged_image_days: int
    kms_key_arn: str
    partition: str
    region: str
    account: str


def lifecycle_policy(untagged_days: int) -> str:
    """ECR lifecycle: expire untagged images only.

    A tagged image is a content-addressed version some pipeline version may run (deployed, or
    a rollback target); ECR cannot know which, so no rule expires tagged images by age or
    count. Pruning those is kfops' job, from the deployed and rollback-target versions.
    """
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
    ]
    return json.dumps({"rules": rules})


def registry_host(partition: str, region: str, account: str) -> str:
    """``<account>.dkr.ecr.<region>.amazonaws.com`` (``.com.cn`` in China): KFOPS_IMAGE_REGISTRY."""
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}"


def repository_arn(partition: str, region: str, account: str, component: str) -> str:
    return f"arn:{partition}:ecr:{region}:{account}:repository/{repository(component)}"


class Registry(pulumi.ComponentResource):
    """ECR repositories: immutable tags (content-hash tags never move), scan on push, lifecycle.

    Created only by the owning stack; other stacks get the same ARNs and host without resources.
    """

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kfops:registry:Registry", name, None, opts)
        # Retained on delete: a stack's teardown (or a stack giving up ownership) never deletes
        # images that another stack's deployed versions run.
        child = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        encryption: aws.ecr.RepositoryEncryptionConfigurationArgsDict = (
            {"encryption_type": "KMS", "kms_key": args.kms_key_arn}
            if args.kms_key_arn
            else {"encryption_type": "AES256"}
        )
        self.repositories: dict[str, aws.ecr.Repository] = {}
        arns: list[pulumi.Input[str]] = []
        for component in component_names():
            if not args.owner:
                arns.append(repository_arn(args.partition, args.region, args.account, component))
                continue
            repo = aws.ecr.Repository(
                repository(component),
                name=repository(component),
                # IMMUTABLE, with no exclusion filter: no tag is ever overwritten, by any stack
                image_tag_mutability="IMMUTABLE",
                image_scanning_configuration={"scan_on_push": True},
                encryption_configurations=[encryption],
                opts=child,
            )
            aws.ecr.LifecyclePolicy(
                f"{repository(component)}-lifecycle",
                repository=repo.name,
                policy=lifecycle_policy(args.untagged_image_days),
                opts=child,
            )
            self.repositories[component] = repo
            arns.append(repo.arn)
        self.arns = pulumi.Output.all(*arns)
        self.registry_host = registry_host(args.partition, args.region, args.account)
        self.register_outputs({"registry": self.registry_host, "owner": args.owner})
