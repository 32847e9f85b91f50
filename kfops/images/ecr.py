"""Whether images exist in ECR: for the build plan, and before a deploy uses them."""

from __future__ import annotations

from components.images import image, registry, repository
from components.shared.errors import InputError, KfopsError


def _ecr_region(host: str) -> str | None:
    parts = host.split(".")
    if len(parts) >= 6 and parts[1] == "dkr" and parts[2] == "ecr":
        return parts[3]
    return None


def ecr_image_exists(host: str, repository_name: str, tag: str) -> bool:
    """Whether ``repository_name:tag`` exists in the ECR registry ``host`` (``describe-images``).

    Raises:
        InputError: The repository does not exist.
        KfopsError: ECR cannot be reached or answers an unexpected error.
    """
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from components.shared.deadline import aws_failure, botocore_config

    client = boto3.client("ecr", region_name=_ecr_region(host), config=botocore_config())
    try:
        client.describe_images(repositoryName=repository_name, imageIds=[{"imageTag": tag}])
        return True
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code == "ImageNotFoundException":
            return False
        if code == "RepositoryNotFoundException":
            raise InputError(f"ECR repository {repository_name} does not exist (run `pulumi up`)") from None
        raise KfopsError(f"cannot query ECR for {repository_name}: {code or exc}") from None
    except BotoCoreError as exc:
        reason = aws_failure("ECR", client.meta.endpoint_url, exc)
        raise KfopsError(reason or f"cannot reach ECR: {type(exc).__name__}") from None


def is_ecr(host: str) -> bool:
    """Whether a registry host is an ECR registry (``<account>.dkr.ecr.<region>.amazonaws.com``)."""
    return _ecr_region(host) is not None


def existing_in_registry(components: list[str]) -> dict[str, bool]:
    """Whether each component's content-hash tag exists in the configured ECR registry."""
    return {
        name: ecr_image_exists(registry(), repository(name), image(name).rsplit(":", 1)[1])
        for name in components
    }


def verify_images(images: set[str]) -> None:
    """Refuse to deploy pipelines whose ECR images do not exist (naming the first missing one).

    Images outside ECR (e.g. the local placeholder registry used with kind, where
    images are loaded into the cluster directly) are not checked. Only reads ECR.

    Raises:
        InputError: An image tag or its repository is missing from ECR.
        KfopsError: ECR cannot be queried.
    """
    for reference in sorted(images):
        host, _, rest = reference.partition("/")
        if not is_ecr(host):
            continue
        repository_name, _, tag = rest.rpartition(":")
        try:
            found = ecr_image_exists(host, repository_name, tag)
        except InputError as exc:  # the repository itself is missing
            raise InputError(f"image {reference} cannot exist: {exc}") from None
        except KfopsError as exc:
            raise KfopsError(f"cannot check image {reference}: {exc}") from None
        if not found:
            raise InputError(
                f"image {reference} is not in the registry; "
                "build and push it first (kfops images build --push)"
            )
