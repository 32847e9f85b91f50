"""``kfops images build``: build (and push) the images a plan marks, one or several at once."""

from __future__ import annotations

import concurrent.futures
import shutil
import subprocess
import time

from components.shared.errors import KfopsError
from kfops.images import REPO
from kfops.images.plan import ImagePlan


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
