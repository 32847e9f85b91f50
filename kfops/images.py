"""``kfops images``: per-component image references and pinned dependency sets.

Each component's image installs exactly its own dependency group of
``pyproject.toml`` (``image-<component>``), exported with hashes from ``uv.lock``
to ``components/<name>/requirements.txt``; one unrelated dependency bump then
changes only the images that use it.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from components.images import (
    COMPONENTS_DIR,
    DEFAULT_REGISTRY,
    component_names,
    copied_paths,
    image,
    image_inputs,
    registry,
    repository,
)
from components.shared.errors import InputError, KfopsError

REPO = COMPONENTS_DIR.parent


def dependency_group(component: str) -> str:
    """The ``pyproject.toml`` dependency group of a component's image."""
    return "image-" + component.replace("_", "-")


def _uv() -> str:
    local = Path(sys.prefix) / "bin" / "uv"
    found = str(local) if local.is_file() else shutil.which("uv")
    if not found:
        raise InputError("uv is not installed (run ./scripts/bootstrap)")
    return found


def export_requirements(component: str) -> str:
    """The hash-pinned requirements of a component's image, from ``uv.lock``."""
    command = [
        _uv(),
        "export",
        "--frozen",
        "--quiet",
        "--no-emit-project",
        "--no-header",
        "--format",
        "requirements-txt",
        "--only-group",
        dependency_group(component),
    ]
    try:
        out = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
            cwd=REPO,
            env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        )
    except subprocess.CalledProcessError as exc:
        raise KfopsError(f"uv export failed for {component}: {exc.stderr.strip()}") from None
    header = (
        f"# Pinned, hash-checked dependencies of the {component} image.\n"
        f"# Generated from uv.lock by `kfops images lock`; do not edit.\n"
    )
    return header + out.stdout


def lock_images(check: bool = False) -> list[str]:
    """Write (or, with ``check``, compare) every component's requirements file.

    Returns:
        The components whose file was (or, with ``check``, would be) changed.
    """
    changed = []
    for name in component_names():
        path = COMPONENTS_DIR / name / "requirements.txt"
        text = export_requirements(name)
        if path.is_file() and path.read_text() == text:
            continue
        changed.append(name)
        if not check:
            tmp = path.with_name(".requirements.txt.tmp")
            tmp.write_text(text)
            tmp.replace(path)
    return changed


#: The base image of every component image (Python as on the project's .venv: 3.11).
BASE_IMAGE = "python:3.11.14-slim-bookworm"
#: The user the tasks run as (no root in a pod; files a task writes belong to it).
IMAGE_UID = 10001

_DOCKERFILE = """\
# Image of the `{name}` component. GENERATED from components/images.py by
# `kfops images dockerfiles`; do not edit (a test fails while this file is stale).
# Build from the repository root:
#   docker build -f components/{name}/Dockerfile -t "$(kfops images ref {name})" .
# Pinned, hash-checked dependencies come from components/{name}/requirements.txt
# (group {group} of pyproject.toml, exported from uv.lock by `kfops images lock`);
# the task command is `python3 -m kfp.dsl.executor_main`.
FROM {base}

ENV PYTHONUNBUFFERED=1 \\
    PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    PYTHONPATH=/app

WORKDIR /app

COPY components/{name}/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --no-deps --require-hashes -r /tmp/requirements.txt \\
    && rm /tmp/requirements.txt \\
    && useradd --uid {uid} --no-create-home --shell /usr/sbin/nologin kfops

{copies}
RUN python -m compileall -q components

USER {uid}
# A batch task, not a service: there is nothing to health-check.
HEALTHCHECK NONE
"""


def render_dockerfile(component: str) -> str:
    """The Dockerfile of a component's image, from its declaration in ``components/images.py``."""
    copies = "\n".join(f"COPY components/{p} components/{p}" for p in copied_paths(component))
    return _DOCKERFILE.format(
        name=component, group=dependency_group(component), base=BASE_IMAGE, uid=IMAGE_UID, copies=copies
    )


def write_dockerfiles(check: bool = False) -> list[str]:
    """Write (or, with ``check``, compare) every component's generated Dockerfile.

    Returns:
        The components whose Dockerfile was (or, with ``check``, would be) changed.
    """
    changed = []
    for name in component_names():
        path = COMPONENTS_DIR / name / "Dockerfile"
        text = render_dockerfile(name)
        if path.is_file() and path.read_text() == text:
            continue
        changed.append(name)
        if not check:
            tmp = path.with_name(".Dockerfile.tmp")
            tmp.write_text(text)
            tmp.replace(path)
    return changed


@dataclass(frozen=True)
class ImagePlan:
    """Whether one component's image must be built.

    Attributes:
        component: Component name.
        image: Full reference with the content-hash tag.
        build: True when the image must be built (changed, or missing from the registry).
        reason: Why, in words.
    """

    component: str
    image: str
    build: bool
    reason: str


def changed_components(since: str, repo: Path = REPO) -> set[str]:
    """Components whose image inputs differ between ``since`` and the working tree of ``repo``."""
    components_dir = repo / COMPONENTS_DIR.name
    try:
        diff = subprocess.run(
            ["git", "diff", "--name-only", since, "--"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            cwd=repo,
        ).stdout.split()
        untracked = subprocess.run(
            ["git", "ls-files", "--others", "--exclude-standard"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            cwd=repo,
        ).stdout.split()
    except subprocess.CalledProcessError as exc:
        raise InputError(f"cannot compare with {since!r}: {exc.stderr.strip() or exc}") from None
    changed = {repo / p for p in [*diff, *untracked]}
    deleted = {p for p in changed if not p.exists()}
    return {
        name
        for name in component_names()
        if changed & set(image_inputs(name, components_dir))
        or any(p.is_relative_to(components_dir / n) for p in deleted for n in (name, "shared"))
    }


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


def plan_images(since: str | None = None) -> list[ImagePlan]:
    """Which images a merge must build.

    With a real registry (``KFOPS_IMAGE_REGISTRY``), an image is built when no image with
    its content-hash tag exists there. With ``since``, only images whose inputs changed
    since that git ref are candidates. With neither, every image is listed.
    """
    names = list(component_names())
    candidates = set(names) if since is None else changed_components(since)
    remote = registry() != DEFAULT_REGISTRY
    present = existing_in_registry(sorted(candidates)) if remote and candidates else {}
    plans = []
    for name in names:
        if name not in candidates:
            plans.append(ImagePlan(name, image(name), False, f"inputs unchanged since {since}"))
        elif remote and present.get(name):
            plans.append(ImagePlan(name, image(name), False, "already in the registry"))
        elif remote:
            plans.append(ImagePlan(name, image(name), True, "not in the registry"))
        else:
            reason = f"inputs changed since {since}" if since else "no registry configured"
            plans.append(ImagePlan(name, image(name), True, reason))
    return plans


def build_command(plan: ImagePlan, *, push: bool, cache: str | None) -> list[str]:
    """The ``docker buildx build`` command for one image (context: the repository root)."""
    command = [
        "docker",
        "buildx",
        "build",
        "--file",
        f"components/{plan.component}/Dockerfile",
        "--tag",
        plan.image,
        "--provenance=false",
    ]
    if cache == "gha":  # GitHub Actions cache, one scope per image
        command += [
            "--cache-from",
            f"type=gha,scope={plan.component}",
            "--cache-to",
            f"type=gha,mode=max,scope={plan.component}",
        ]
    command += ["--push" if push else "--load", "."]
    return command


def components_of_pipelines(names: list[str]) -> set[str]:
    """The components whose images the named pipelines' tasks run in.

    Raises:
        InputError: An unknown pipeline.
    """
    from google.protobuf import json_format

    from kfops.registry import load_pipeline

    by_image = {image(c): c for c in component_names()}
    found: set[str] = set()
    for name in names:
        spec = json_format.MessageToDict(load_pipeline(name).pipeline_spec.deployment_spec)
        for executor in spec.get("executors", {}).values():
            reference = executor.get("container", {}).get("image", "")
            if reference in by_image:
                found.add(by_image[reference])
    return found


def only_for_pipelines(plans: list[ImagePlan], names: list[str]) -> list[ImagePlan]:
    """The plan with only the images of the named pipelines left to build."""
    wanted = components_of_pipelines(names)
    return [
        p
        if p.component in wanted
        else ImagePlan(p.component, p.image, False, f"not used by {', '.join(names)}")
        for p in plans
    ]


def build_images(
    plans: list[ImagePlan], *, push: bool, cache: str | None, dry_run: bool, jobs: int = 1
) -> list[list[str]]:
    """Build (and optionally push) every image the plan marks; return the commands run.

    With ``jobs`` > 1, that many builds run at once (BuildKit shares the base layers);
    each build's output is printed as one block when it ends.

    Raises:
        KfopsError: Docker is missing or a build fails (naming the image).
    """
    marked = [p for p in plans if p.build]
    commands = [build_command(p, push=push, cache=cache) for p in marked]
    if dry_run:
        return commands
    if commands and shutil.which("docker") is None:
        raise KfopsError("docker is not installed: image builds need a Docker engine with buildx")

    def build(command: list[str], plan: ImagePlan) -> tuple[ImagePlan, int, str]:
        started = time.monotonic()
        if jobs <= 1:
            print(f"building {plan.image}", flush=True)
            result = subprocess.run(command, cwd=REPO, timeout=3600)
            return plan, result.returncode, ""
        done = subprocess.run(
            command, cwd=REPO, timeout=3600, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        return (
            plan,
            done.returncode,
            f"built {plan.image} in {time.monotonic() - started:.0f} s\n{done.stdout}",
        )

    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for plan, code, output in pool.map(lambda pair: build(*pair), zip(commands, marked, strict=True)):
            if output:
                print(output, flush=True)
            if code != 0:
                failed.append(f"{plan.image} (exit {code})")
    if failed:
        raise KfopsError(f"docker build failed: {', '.join(failed)}")
    return commands


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
