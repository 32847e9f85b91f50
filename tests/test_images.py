"""Component images: lint-clean Dockerfiles, non-root, hash-pinned, kfp inside."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.images import COMPONENTS_DIR, EXTRA_INPUTS, component_names, image, image_inputs, repository
from kfops.images.dockerfiles import write_dockerfiles
from kfops.images.lock import dependency_group, lock_images
from tests.conftest import REPO

DOCKERFILES = {name: REPO / "components" / name / "Dockerfile" for name in component_names()}


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.prefix) / "bin" / "hadolint")
    result = subprocess.run([hadolint, *map(str, DOCKERFILES.values())], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", component_names())
def test_dockerfile_is_slim_pinned_non_root_and_copies_only_its_code(name: str) -> None:
    text = DOCKERFILES[name].read_text()
    base = re.search(r"^FROM (\S+)", text, re.M)
    assert base and re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base.group(1))
    assert f"COPY components/{name}/requirements.txt" in text
    assert "--require-hashes" in text and "--no-deps" in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0")
    copied = re.findall(r"^COPY components/(\S+) components/(\S+)$", text, re.M)
    assert [src for src, dst in copied if src == dst] == ["__init__.py", "shared", *EXTRA_INPUTS[name], name]
    assert len(copied) == len(EXTRA_INPUTS[name]) + 3  # nothing else enters the image


def test_dockerfiles_are_generated_from_the_declaration() -> None:
    """`kfops images dockerfiles --check`: the one declaration (components/images.py) and the files agree."""
    assert write_dockerfiles(check=True) == []


def test_every_component_folder_is_declared_and_has_its_own_dependency_group() -> None:
    import tomllib

    folders = {p.parent.name for p in COMPONENTS_DIR.glob("*/component.py")}
    assert set(component_names()) == folders
    groups = {
        g
        for g in tomllib.loads((REPO / "pyproject.toml").read_text())["dependency-groups"]
        if g.startswith("image-")
    }
    assert groups == {dependency_group(name) for name in component_names()}
    for name, extras in EXTRA_INPUTS.items():
        for extra in extras:
            assert (COMPONENTS_DIR / extra).exists(), f"{name}: {extra} does not exist"


def test_content_hash_covers_exactly_the_declared_paths() -> None:
    files = {p.relative_to(COMPONENTS_DIR).as_posix() for p in image_inputs("monitoring")}
    assert "monitoring/io.py" in files and "evaluate/core.py" in files and "shared/store.py" in files
    assert not any(f.startswith(("train/", "kfp_api/")) or f.endswith(".md") for f in files)


@pytest.mark.parametrize("name", component_names())
def test_image_installs_kfp_2_17_0(name: str) -> None:
    requirements = (REPO / "components" / name / "requirements.txt").read_text()
    assert re.search(r"^kfp==2\.17\.0 ", requirements, re.M)
    assert "--hash=sha256:" in requirements


def test_requirements_files_match_the_lock() -> None:
    assert lock_images(check=True) == []


def test_image_reference_names_the_component() -> None:
    assert repository("model_storage") == "kfops-model-storage"
    assert image("train").split("/")[-1].startswith("kfops-train:")
    with pytest.raises(KeyError, match="unknown component"):
        image("nope")
