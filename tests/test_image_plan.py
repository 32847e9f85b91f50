"""Content-hash image tags and `kfops images plan` (git and a moto ECR server)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from components.images import COMPONENTS_DIR, component_names, content_hash, image, repository
from kfops.images.plan import changed_components
from tests.conftest import fresh_ecr_repositories, run_kfops

MOTO_REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"  # moto's default account


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A git repository holding a copy of components/ (committed)."""
    shutil.copytree(COMPONENTS_DIR, tmp_path / "components", ignore=shutil.ignore_patterns("__pycache__"))
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "base"],
    ):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    return tmp_path


def _hashes(root: Path) -> dict[str, str]:
    return {name: content_hash(name, root / "components") for name in component_names()}


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ("train/core.py", {"train"}),
        # the bundled data: builtin:// sources of monitoring and batch_predict read it too
        ("ingest/data/breast_cancer.csv", {"ingest", "monitoring", "batch_predict"}),
        ("ingest/core.py", {"ingest"}),
        ("evaluate/core.py", {"evaluate", "champion", "monitoring"}),  # both copy evaluate/core.py
        ("evaluate/requirements.txt", {"evaluate"}),  # ... but not evaluate's dependency set
        ("monitoring/core.py", {"monitoring", "retrain_trigger"}),
        ("monitoring/io.py", {"monitoring"}),
        ("split/Dockerfile", {"split"}),
        ("shared/store.py", set(component_names())),
        ("ingest/README.md", set()),
    ],
)
def test_a_change_moves_exactly_the_tags_of_the_images_it_enters(
    tree: Path, edit: str, expected: set[str]
) -> None:
    before = _hashes(tree)
    _append(tree / "components" / edit, "\n# changed\n")
    after = _hashes(tree)
    assert {name for name in before if before[name] != after[name]} == expected
    assert changed_components("HEAD", tree) == expected


def test_a_new_file_in_a_component_counts_and_docs_outside_do_not(tree: Path) -> None:
    (tree / "components" / "train" / "extra.py").write_text("X = 1\n")
    (tree / "README.md").write_text("docs\n")
    assert changed_components("HEAD", tree) == {"train"}


def test_a_renamed_file_moves_the_tag_even_with_the_same_bytes(tree: Path) -> None:
    # The Dockerfile copies files by path: the same bytes under another name are
    # another image (another module name to import).
    extra = tree / "components" / "train" / "extra.py"
    extra.write_text("X = 1\n")
    before = content_hash("train", tree / "components")
    extra.rename(extra.with_name("other.py"))
    assert content_hash("train", tree / "components") != before


def test_bytes_moved_between_two_files_move_the_tag(tree: Path) -> None:
    first, second = tree / "components" / "train" / "a.py", tree / "components" / "train" / "b.py"
    first.write_text("X = 1\n")
    second.write_text("Y = 2\n")
    before = content_hash("train", tree / "components")
    first.write_text("Y = 2\n")
    second.write_text("X = 1\n")
    assert content_hash("train", tree / "components") != before


def test_the_tag_is_the_same_in_a_fresh_process_and_as_specified(tmp_path: Path) -> None:
    """Not a same-process tautology: another interpreter (other cwd, other hash seed)
    gets the same tag, and it is the documented sha256 over paths and file digests."""
    import hashlib

    from components.images import image_inputs

    fresh = subprocess.run(
        [sys.executable, "-c", "from components.images import content_hash; print(content_hash('train'))"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(COMPONENTS_DIR.parent)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    digest = hashlib.sha256()
    for path in image_inputs("train"):
        digest.update(path.relative_to(COMPONENTS_DIR).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    assert fresh == content_hash("train") == "c-" + digest.hexdigest()[:16]
    assert image("train").rsplit(":", 1)[1] == fresh


def test_unknown_ref_is_a_usage_error() -> None:
    result = run_kfops("images", "plan", "--since", "no-such-ref")
    assert result.returncode == 2 and result.stderr.startswith("error: cannot compare with 'no-such-ref'")


def test_plan_lists_only_images_missing_from_ecr(aws_env: dict[str, str]) -> None:
    import boto3

    ecr = boto3.client("ecr")
    fresh_ecr_repositories([repository(n) for n in component_names()])
    for name in ("train", "split"):
        ecr.put_image(
            repositoryName=repository(name),
            imageTag=image(name).rsplit(":", 1)[1],
            imageManifest=json.dumps({"schemaVersion": 2, "name": name}),
            imageManifestMediaType="application/vnd.oci.image.manifest.v1+json",
        )
    result = run_kfops("images", "plan", "--json", env={**aws_env, "KFOPS_IMAGE_REGISTRY": MOTO_REGISTRY})
    assert result.returncode == 0, result.stderr
    plans = {p["component"]: p for p in json.loads(result.stdout)}
    assert {n for n, p in plans.items() if p["build"]} == set(component_names()) - {"train", "split"}
    assert plans["train"]["reason"] == "already in the registry"
    assert plans["ingest"]["image"].startswith(f"{MOTO_REGISTRY}/kfops-ingest:c-")


def test_plan_names_a_missing_repository(aws_env: dict[str, str]) -> None:
    import boto3

    ecr = boto3.client("ecr")
    for name in component_names():
        with contextlib.suppress(ecr.exceptions.RepositoryNotFoundException):
            ecr.delete_repository(repositoryName=repository(name), force=True)
    result = run_kfops("images", "plan", env={**aws_env, "KFOPS_IMAGE_REGISTRY": MOTO_REGISTRY})
    assert result.returncode == 2
    first = repository(sorted(component_names())[0])
    assert f"ECR repository {first} does not exist" in result.stderr


def test_build_runs_buildx_for_planned_images_only(tmp_path: Path) -> None:
    """A stand-in `docker` on PATH records the commands (no Docker engine here)."""
    log = tmp_path / "calls.txt"
    fake = tmp_path / "bin" / "docker"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    fake.chmod(0o755)
    path = f"{fake.parent}:{os.environ['PATH']}"
    result = run_kfops("images", "build", "--cache", "gha", env={"PATH": path})
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert len(calls) == len(component_names())
    train = next(c for c in calls if "components/train/Dockerfile" in c)
    assert f"--tag {image('train')}" in train and "--load" in train and "--push" not in train
    assert "--cache-from type=gha,scope=train" in train and train.endswith(" .")


def test_build_with_nothing_changed_builds_nothing(tmp_path: Path) -> None:
    result = run_kfops("images", "build", "--since", "HEAD", "--dry-run")
    changed = changed_components("HEAD")
    assert result.returncode == 0
    assert result.stdout.strip().endswith(f"{len(changed)} image(s) to build")


def test_build_without_docker_fails_clearly(tmp_path: Path) -> None:
    python_dir = str(Path(sys.executable).parent)
    result = run_kfops("images", "build", env={"PATH": f"{python_dir}:/nonexistent"})
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "error: docker is not installed: image builds need a Docker engine with buildx"
    )


def test_build_only_the_images_of_named_pipelines_in_parallel(tmp_path: Path) -> None:
    """What the e2e job builds: the images of the pipelines it runs, several builds at once."""
    log = tmp_path / "calls.txt"
    fake = tmp_path / "bin" / "docker"
    fake.parent.mkdir()
    # each build takes 1 s: three at once finish ten builds in ~4 s, one by one in ~10 s
    fake.write_text(f'#!/bin/sh\necho "start $*" >> {log}\nsleep 1\necho "end" >> {log}\n')
    fake.chmod(0o755)
    path = f"{fake.parent}:{os.environ['PATH']}"
    result = run_kfops(
        "images", "build", "--pipelines", "training,monitoring", "--jobs", "3", env={"PATH": path}
    )
    assert result.returncode == 0, result.stderr
    lines = log.read_text().splitlines()
    builds = [line for line in lines if line.startswith("start ")]
    assert len(builds) == len(component_names()) - 1
    assert not any("components/batch_predict/" in b for b in builds)  # inference is not run
    overlap = max(
        sum(1 for line in lines[: i + 1] if line.startswith("start ")) - lines[: i + 1].count("end")
        for i in range(len(lines))
    )
    assert overlap == 3  # builds ran at once, never more than --jobs
    assert re.search(r"^built \S+/kfops-train:c-\w+ in \d+ s$", result.stdout, re.M), result.stdout


@pytest.mark.parametrize("modules", ['"sklearn"', '[""]', "[1]", '["sklearn", ""]'])
def test_an_estimator_allow_list_that_is_not_a_list_of_names_is_refused(tmp_path: Path, modules: str) -> None:
    from components.images import estimator_modules

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f"[tool.kfops.estimators]\nmodules = {modules}\n")
    with pytest.raises(ValueError, match="must be a list of module names"):
        estimator_modules(pyproject)


def test_the_estimator_allow_list_defaults_to_scikit_learn(tmp_path: Path) -> None:
    from components.images import estimator_modules

    assert estimator_modules(tmp_path / "missing.toml") == ("sklearn",)
    (tmp_path / "other.toml").write_text("[tool.other]\nx = 1\n")
    assert estimator_modules(tmp_path / "other.toml") == ("sklearn",)
    (tmp_path / "named.toml").write_text('[tool.kfops.estimators]\nmodules = ["sklearn", "lightgbm"]\n')
    assert estimator_modules(tmp_path / "named.toml") == ("sklearn", "lightgbm")
