"""The one place that says which image each component runs in.

Component names come from the folders under ``components/`` that have a
``Dockerfile`` (one source of truth). Every image is tagged with a content hash of
exactly what goes into it: its own folder (code, data, ``Dockerfile`` and
``requirements.txt``, i.e. its own resolved dependency set), the shared runtime code
it copies, and ``components/__init__.py``; documentation (``*.md``) is left out. So
a tag is known on a pull request before anything is built, never moves (ECR tags are
immutable), and changes only when that image's inputs change.

The registry defaults to a local placeholder so that a fresh clone compiles with
no registry configured; set ``KFOPS_IMAGE_REGISTRY`` (e.g.
``123456789012.dkr.ecr.eu-west-1.amazonaws.com``) to point pipelines at a real one.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

COMPONENTS_DIR = Path(__file__).resolve().parent
REGISTRY_ENV = "KFOPS_IMAGE_REGISTRY"
DEFAULT_REGISTRY = "kfops.local"
IMAGE_PREFIX = "kfops-"
TAG_PREFIX = "c-"
SHARED_INPUTS = ("__init__.py", "shared")  # what every Dockerfile copies besides its own folder
#: Other components' folders an image also copies, because its code imports them
#: (each Dockerfile's COPY lines must match; tests/test_images.py checks it).
EXTRA_INPUTS: dict[str, tuple[str, ...]] = {
    "champion": ("evaluate",),
    "monitoring": ("evaluate",),
    "retrain_trigger": ("monitoring", "kfp_api"),  # kfp_api: the one KFP API client
}
_SKIPPED_SUFFIXES = (".md", ".pyc")


def component_names() -> tuple[str, ...]:
    """Names of all components (folders with a Dockerfile), sorted."""
    return tuple(sorted(p.parent.name for p in COMPONENTS_DIR.glob("*/Dockerfile")))


def repository(component: str) -> str:
    """Image repository name of a component (``model_storage`` -> ``kfops-model-storage``)."""
    return IMAGE_PREFIX + component.replace("_", "-")


def image_inputs(component: str, root: Path = COMPONENTS_DIR) -> list[Path]:
    """The files that go into a component's image, sorted (what its tag hashes)."""
    files: list[Path] = []
    for entry in (*SHARED_INPUTS, *EXTRA_INPUTS.get(component, ()), component):
        path = root / entry
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        files += [
            p for p in candidates if "__pycache__" not in p.parts and not p.name.endswith(_SKIPPED_SUFFIXES)
        ]
    return sorted(files)


def content_hash(component: str, root: Path = COMPONENTS_DIR) -> str:
    """``c-`` and 16 hex digits of sha256 over the image's input paths and bytes."""
    digest = hashlib.sha256()
    for path in image_inputs(component, root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return TAG_PREFIX + digest.hexdigest()[:16]


@functools.cache
def _tag(component: str) -> str:
    return content_hash(component)


def registry() -> str:
    """The registry host (``KFOPS_IMAGE_REGISTRY``, else the local placeholder)."""
    return os.environ.get(REGISTRY_ENV, DEFAULT_REGISTRY).rstrip("/")


def image(component: str) -> str:
    """Full image reference of a component: ``<registry>/kfops-<name>:<content hash>``.

    Raises:
        KeyError: ``component`` is not a component folder.
    """
    if component not in component_names():
        raise KeyError(f"unknown component {component!r}; known: {', '.join(component_names())}")
    return f"{registry()}/{repository(component)}:{_tag(component)}"
