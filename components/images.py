"""The one place that says what enters each component's image and how it is referenced.

``EXTRA_INPUTS`` declares every image: its name (a folder under ``components/``) and the
paths under ``components/`` it copies besides the shared runtime code (``SHARED_INPUTS``)
and its own folder. Everything else follows from it: the Dockerfiles are generated
from it (``kfops images dockerfiles``; a test fails while one is stale), the
dependency set is the ``pyproject.toml`` group ``image-<name>`` (exported to
``components/<name>/requirements.txt`` by ``kfops images lock``), the isolated local
runs (``kfops run --isolated``) build each task's tree from it, and every image is
tagged with a content hash of exactly those files (documentation, ``*.md``, left
out). So a tag is known on a pull request before anything is built, never moves
(ECR tags are immutable), and changes only when that image's inputs change.

The registry defaults to a local placeholder so that a fresh clone compiles with
no registry configured; set ``KFOPS_IMAGE_REGISTRY`` (e.g.
``123456789012.dkr.ecr.eu-west-1.amazonaws.com``) to point pipelines at a real one.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from components.shared.names import IMAGE_PREFIX

COMPONENTS_DIR = Path(__file__).resolve().parent
REGISTRY_ENV = "KFOPS_IMAGE_REGISTRY"
DEFAULT_REGISTRY = "kfops.local"
TAG_PREFIX = "c-"
SHARED_INPUTS = ("__init__.py", "shared")  # what every image copies besides its own folder
#: The bundled datasets that ``builtin://`` sources read (``resources.files("components.ingest")``).
BUNDLED_DATA = ("ingest/__init__.py", "ingest/data")
#: Every image and the other paths under components/ it copies (folders or single files),
#: because the code reachable from its task imports or reads them (tests/test_image_reach.py
#: checks it). The one declaration of what enters an image.
EXTRA_INPUTS: dict[str, tuple[str, ...]] = {
    "batch_predict": BUNDLED_DATA,
    "champion": ("evaluate/__init__.py", "evaluate/core.py"),
    "evaluate": (),
    "ingest": (),
    "metrics_store": (),
    "model_storage": (),
    "monitoring": ("evaluate/__init__.py", "evaluate/core.py", *BUNDLED_DATA),
    "preprocess": (),
    "retrain_trigger": ("monitoring/core.py", "kfp_api"),  # kfp_api: the one KFP API client
    "split": (),
    "train": (),
}
_SKIPPED_SUFFIXES = (".md", ".pyc")
#: Images whose task builds or unpickles the trained model (KServe's sklearn server is the
#: other reader, see `kfops.kserve`): each must hold the package of every estimator module
#: allowed by `estimator_modules` (``kfops images check`` and tests/test_image_reach.py check it).
MODEL_IMAGES = ("batch_predict", "champion", "evaluate", "monitoring", "train")
PYPROJECT = COMPONENTS_DIR.parent / "pyproject.toml"


def estimator_modules(pyproject: Path = PYPROJECT) -> tuple[str, ...]:
    """Modules whose estimators ``estimator=<import path>`` may name: ``[tool.kfops.estimators]
    modules`` of ``pyproject.toml`` (``("sklearn",)`` when the file or the key is absent).

    The training pipeline passes them to the train task as a fixed input (not a pipeline
    parameter), so the compiled pipeline carries the allow-list and a run cannot widen it.
    """
    import tomllib

    try:
        data = tomllib.loads(pyproject.read_text())
    except FileNotFoundError:
        return ("sklearn",)
    table = data.get("tool", {}).get("kfops", {}).get("estimators", {})
    modules = table.get("modules", ["sklearn"])
    if not isinstance(modules, list) or not all(isinstance(m, str) and m for m in modules):
        raise ValueError(f"{pyproject}: [tool.kfops.estimators] modules must be a list of module names")
    return tuple(modules)


def component_names() -> tuple[str, ...]:
    """Names of all components (one image each), sorted."""
    return tuple(sorted(EXTRA_INPUTS))


def copied_paths(component: str) -> tuple[str, ...]:
    """The paths under ``components/`` an image copies, in Dockerfile order."""
    return (*SHARED_INPUTS, *EXTRA_INPUTS.get(component, ()), component)


def repository(component: str) -> str:
    """Image repository name of a component (``model_storage`` -> ``kfops-model-storage``)."""
    return IMAGE_PREFIX + component.replace("_", "-")


def image_inputs(component: str, root: Path = COMPONENTS_DIR) -> list[Path]:
    """The files that go into a component's image, sorted (what its tag hashes)."""
    files: list[Path] = []
    for entry in copied_paths(component):
        path = root / entry
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        files += [
            p for p in candidates if "__pycache__" not in p.parts and not p.name.endswith(_SKIPPED_SUFFIXES)
        ]
    return sorted(set(files))


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
