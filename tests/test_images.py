"""Component images: lint-clean Dockerfiles, non-root, hash-pinned, kfp inside."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.images import EXTRA_INPUTS, component_names, image, repository
from kfops.images import lock_images
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
    copied = set(re.findall(r"^COPY components/(\w+)", text, re.M))
    assert copied == {"__init__", "shared", name, *EXTRA_INPUTS.get(name, ())}


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
