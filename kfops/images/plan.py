"""``kfops images plan``: which images a merge must build, and for which pipelines."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from components.images import (
    COMPONENTS_DIR,
    DEFAULT_REGISTRY,
    component_names,
    image,
    image_inputs,
    registry,
)
from components.shared.errors import InputError
from kfops.images import REPO
from kfops.images.ecr import existing_in_registry


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
        diff = _git(["diff", "--name-only", since, "--"], repo)
        untracked = _git(["ls-files", "--others", "--exclude-standard"], repo)
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


def _git(args: list[str], repo: Path) -> list[str]:
    """The whitespace-separated words ``git <args>`` prints in ``repo``."""
    out = subprocess.run(["git", *args], capture_output=True, text=True, check=True, timeout=60, cwd=repo)
    return out.stdout.split()


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
