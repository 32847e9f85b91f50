"""``kfops images lock``: per-component pinned dependency sets.

Each component's image installs exactly its own dependency group of
``pyproject.toml`` (``image-<component>``), exported with hashes from ``uv.lock``
to ``components/<name>/requirements.txt``; one unrelated dependency bump then
changes only the images that use it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from components.images import COMPONENTS_DIR
from components.shared.errors import InputError, KfopsError
from kfops.images import REPO, sync_component_files

_REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", re.M)


def dependency_group(component: str) -> str:
    """The ``pyproject.toml`` dependency group of a component's image."""
    return "image-" + component.replace("_", "-")


def uv_executable() -> str:
    """The ``uv`` of this environment (``.venv/bin/uv``), else the one on ``PATH``."""
    local = Path(sys.prefix) / "bin" / "uv"
    found = str(local) if local.is_file() else shutil.which("uv")
    if not found:
        raise InputError("uv is not installed (run ./scripts/bootstrap)")
    return found


def export_requirements(component: str) -> str:
    """The hash-pinned requirements of a component's image, from ``uv.lock``."""
    command = [
        uv_executable(),
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
    return sync_component_files("requirements.txt", export_requirements, check)


def normalize(distribution: str) -> str:
    """PEP 503 name: ``Scikit_Learn`` -> ``scikit-learn``."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def locked_distributions(component: str, root: Path = COMPONENTS_DIR) -> set[str]:
    """Distributions the image installs (from its requirements.txt)."""
    return {normalize(m) for m in _REQUIREMENT.findall((root / component / "requirements.txt").read_text())}
