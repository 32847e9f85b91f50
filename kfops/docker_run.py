"""``kfops run --runner docker``: each task in its real image (kfp.local's DockerRunner).

The images are the ones ``kfops images build`` makes, under the content-hash tags the
pipeline references; nothing is pulled (a missing image is an error naming the build
command). DockerRunner mounts only the pipeline root into the containers, at the same
path, so the pipeline root here is the kfops home (``.kfops``, or ``$KFOPS_HOME``): the
local store (``.kfops/store``) and the runs (``.kfops/<pipeline>-<time>/``) are inside it.
A local store elsewhere is refused (an ``s3://`` store works as usual; the AWS
variables of this shell are passed to the containers).

The images run as UID 10001 on a cluster. Here the containers run as the invoking
user (``--user UID:GID``), so the files they write into the store belong to you and
the directories you own are writable for them; the image's code is read-only and
compiled at build time, so it runs as any user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from components.images import component_names, image
from components.shared.errors import ERROR_FILE_ENV, InputError, KfopsError
from kfops.settings import Settings

#: Passed into the containers when set here (an S3 store; the endpoint for tests on a local S3).
PASSED_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
)


def docker_problem() -> str:
    """Why the Docker runner cannot run here, or ``""`` when a Docker engine answers."""
    if shutil.which("docker") is None:
        return "docker is not installed"
    try:
        result = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"docker info failed: {exc}"
    if result.returncode != 0 or not result.stdout.strip():
        reason = (result.stderr.strip().splitlines() or ["no answer"])[-1]
        return f"no Docker engine answers ({reason})"
    return ""


def pipeline_images(pipeline: Any) -> set[str]:
    """The images the pipeline's tasks run in."""
    from google.protobuf import json_format

    spec = json_format.MessageToDict(pipeline.pipeline_spec.deployment_spec)
    return {
        e["container"]["image"]
        for e in spec.get("executors", {}).values()
        if e.get("container", {}).get("image")
    }


def missing_images(references: set[str]) -> list[str]:
    """The references not present in the local Docker engine."""
    missing = []
    for reference in sorted(references):
        found = subprocess.run(
            ["docker", "image", "inspect", "--format", "{{.Id}}", reference],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if found.returncode != 0:
            missing.append(reference)
    return missing


def prepare(pipeline: Any, settings: Settings, store: str) -> tuple[str, Any, str]:
    """Check Docker, the images and the store; return (pipeline root, runner, error file).

    Raises:
        KfopsError: No Docker engine answers.
        InputError: An image is not built here, or a local store lies outside the mounted root.
    """
    from kfp import local

    root = settings.runs_dir.parent.resolve()
    if "://" not in store or store.startswith("file://"):
        path = Path(store.removeprefix("file://")).resolve()
        if not path.is_relative_to(root):
            raise InputError(
                f"with --runner docker a local store must lie under {root} (the only folder mounted "
                f"into the containers); got {path} (use --store {root}/store or an s3:// store)"
            )
    problem = docker_problem()
    if problem:
        raise KfopsError(f"--runner docker needs a Docker engine: {problem}")
    ours = {image(c) for c in component_names()}
    wanted = pipeline_images(pipeline)
    foreign = sorted(wanted - ours)
    if foreign:
        raise InputError(f"tasks run in images that are no component image: {', '.join(foreign)}")
    missing = missing_images(wanted)
    if missing:
        raise InputError(
            f"image {missing[0]} is not in the local Docker engine ({len(missing)} missing); "
            "build them first: kfops images build"
        )
    fd, error_file = tempfile.mkstemp(prefix=".kfops-errors-", suffix=".txt", dir=root)
    os.close(fd)
    os.chmod(error_file, 0o666)
    environment = {k: os.environ[k] for k in PASSED_ENV if os.environ.get(k)}
    environment[ERROR_FILE_ENV] = error_file
    runner = local.DockerRunner(user=f"{os.getuid()}:{os.getgid()}", environment=environment)
    return str(root), runner, error_file
