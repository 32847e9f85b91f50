"""The one place that says which image each component runs in.

Component names come from the folders under ``components/`` that have a
``Dockerfile`` (one source of truth). The registry defaults to a local
placeholder so that a fresh clone compiles with no registry configured; set
``KFOPS_IMAGE_REGISTRY`` (e.g. ``123456789012.dkr.ecr.eu-west-1.amazonaws.com``)
to point pipelines at a real one.
"""

from __future__ import annotations

import os
from pathlib import Path

COMPONENTS_DIR = Path(__file__).resolve().parent
REGISTRY_ENV = "KFOPS_IMAGE_REGISTRY"
DEFAULT_REGISTRY = "kfops.local"
IMAGE_PREFIX = "kfops-"
DEFAULT_TAG = "dev"


def component_names() -> tuple[str, ...]:
    """Names of all components (folders with a Dockerfile), sorted."""
    return tuple(sorted(p.parent.name for p in COMPONENTS_DIR.glob("*/Dockerfile")))


def repository(component: str) -> str:
    """Image repository name of a component (``model_storage`` -> ``kfops-model-storage``)."""
    return IMAGE_PREFIX + component.replace("_", "-")


def image(component: str) -> str:
    """Full image reference of a component's image.

    Raises:
        KeyError: ``component`` is not a component folder.
    """
    if component not in component_names():
        raise KeyError(f"unknown component {component!r}; known: {', '.join(component_names())}")
    registry = os.environ.get(REGISTRY_ENV, DEFAULT_REGISTRY).rstrip("/")
    return f"{registry}/{repository(component)}:{DEFAULT_TAG}"
