"""The local half of ``kfops deploy`` (kfops/deploy.py): version names, reading compiled files,
their images and the audit store, checked before any request is made.

The compiled specs here have the shape KFP's compiler writes (``pipelineInfo``, one executor
per component under ``deploymentSpec``, the platform spec as a second YAML document);
tests/test_deploy.py deploys the project's real compiled pipelines to the fake KFP API.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

import kfops.deploy
from components.shared.errors import InputError, ObjectExistsError, StoreError
from kfops.deploy import (
    Compiled,
    DeployResult,
    deploy,
    is_version_name,
    read_compiled,
    referenced_images,
    version_name,
    writable_store,
)

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def spec(name: str, images: dict[str, str], importers: tuple[str, ...] = ()) -> dict[str, Any]:
    """A compiled pipeline spec: a container executor per image, an importer executor per name."""
    executors: dict[str, Any] = {
        f"exec-{step}": {"container": {"image": image, "command": ["python", "-m", step]}}
        for step, image in images.items()
    }
    executors.update({f"exec-{i}": {"importer": {"artifactUri": {"constant": "s3://x"}}} for i in importers})
    return {
        "pipelineInfo": {"name": name},
        "root": {"dag": {"tasks": {}}},
        "deploymentSpec": {"executors": executors},
        "schemaVersion": "2.1.0",
        "sdkVersion": "kfp-2.14.3",
    }


PLATFORM: dict[str, Any] = {"platforms": {"kubernetes": {"deploymentSpec": {"executors": {}}}}}


def write(folder: Path, name: str, *documents: Any) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return path


# -- version names ------------------------------------------------------------------------------------


def test_a_version_is_named_by_the_first_12_hex_of_the_sha256_of_its_file() -> None:
    assert version_name("training", b"") == "training-e3b0c44298fc"  # sha256 of nothing: e3b0c442 98fc1c14...
    content = b"pipelineInfo:\n  name: training\n"
    assert version_name("training", content) == f"training-{hashlib.sha256(content).hexdigest()[:12]}"


def test_the_same_file_gets_the_same_name_and_any_change_a_new_one() -> None:
    content = b"pipelineInfo:\n  name: training\n"
    assert version_name("training", content) == version_name("training", bytes(content))
    assert version_name("training", content) != version_name("training", content + b"\n")
    assert version_name("monitoring", content).startswith("monitoring-")


def test_content_addressed_names_are_told_from_the_version_named_like_the_pipeline() -> None:
    name = version_name("training", b"spec")
    assert is_version_name("training", name)
    assert not is_version_name("training", "training")  # the first version, named by the server
    assert not is_version_name("training", "")
    assert not is_version_name("inference", name)  # another pipeline's
    assert not is_version_name("train", name) and not is_version_name("training", "pre-" + name)


def test_a_content_addressed_name_has_exactly_12_lowercase_hex_digits() -> None:
    digits = version_name("training", b"spec").removeprefix("training-")
    assert is_version_name("training", f"training-{digits}")
    assert not is_version_name("training", f"training-{digits[:-1]}")
    assert not is_version_name("training", f"training-{digits}0")
    assert is_version_name("training", "training-0123456789ab")
    assert not is_version_name("training", "training-0123456789AB")
    assert not is_version_name("training", "training-0123456789ag")


def test_a_pipeline_name_is_matched_literally_not_as_a_pattern() -> None:
    name = version_name("a.b", b"spec")
    assert is_version_name("a.b", name)
    assert not is_version_name("a.b", "axb" + name.removeprefix("a.b"))


# -- compiled files -----------------------------------------------------------------------------------


def test_every_compiled_file_is_read_with_its_name_version_and_images(tmp_path: Path) -> None:
    trainer, scorer = f"{REGISTRY}/ml/train:abc123", f"{REGISTRY}/ml/score:def456"
    training = write(tmp_path, "training.yaml", spec("training", {"train": trainer}), PLATFORM)
    inference = write(tmp_path, "inference.yaml", spec("inference", {"score": scorer}, ("load-model",)))
    (tmp_path / "README.md").write_text("not a pipeline")
    (tmp_path / "notes.yml").write_text("not read: compile writes .yaml")
    found = read_compiled(tmp_path)
    assert found == [
        Compiled(
            "inference", inference, version_name("inference", inference.read_bytes()), frozenset({scorer})
        ),
        Compiled("training", training, version_name("training", training.read_bytes()), frozenset({trainer})),
    ]
    assert found[1].label == f"training@{found[1].version}"


def test_what_was_read_from_a_compiled_file_cannot_be_changed(tmp_path: Path) -> None:
    """Its version name is the hash of its file: renamed or re-pointed, it would deploy one file
    under another's name."""
    write(tmp_path, "training.yaml", spec("training", {"train": "img:1"}))
    (compiled,) = read_compiled(tmp_path)
    for field in dataclasses.fields(compiled):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(compiled, field.name, "inference")


def test_an_empty_document_before_the_spec_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "training.yaml"
    path.write_text("---\n---\n" + yaml.safe_dump(spec("training", {"train": "img:1"})))
    (compiled,) = read_compiled(tmp_path)
    assert compiled.images == {"img:1"}


def test_a_folder_without_compiled_files_says_to_compile(tmp_path: Path) -> None:
    (tmp_path / "training.json").write_text("{}")
    with pytest.raises(InputError, match=r"no compiled pipelines in .* \(run `kfops compile`\)"):
        read_compiled(tmp_path)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("pipelineInfo: [\n", "is not valid YAML"),
        ("", r"is not a compiled KFP pipeline \(no pipelineInfo\)"),
        ("---\n---\n", r"is not a compiled KFP pipeline \(no pipelineInfo\)"),
        ("- pipelineInfo\n- root\n", r"is not a compiled KFP pipeline \(no pipelineInfo\)"),
        ("- pipelineInfo\n---\nplatforms: {}\n", r"is not a compiled KFP pipeline \(no pipelineInfo\)"),
        ("just text\n", r"is not a compiled KFP pipeline \(no pipelineInfo\)"),
        ("root: {}\ndeploymentSpec: {}\n", r"is not a compiled KFP pipeline \(no pipelineInfo\)"),
        ("root: {}\n---\npipelineInfo: {name: x}\n", r"is not a compiled KFP pipeline \(no pipelineInfo\)"),
    ],
    ids=[
        "bad yaml",
        "empty",
        "only separators",
        "a list",
        "a list then a mapping",
        "a scalar",
        "no pipelineInfo",
        "spec not first",
    ],
)
def test_a_file_that_is_not_a_compiled_pipeline_is_refused_by_name(
    tmp_path: Path, text: str, problem: str
) -> None:
    write(tmp_path, "good.yaml", spec("good", {}))
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(InputError, match=rf"^{tmp_path / 'bad.yaml'} {problem}"):
        read_compiled(tmp_path)


def test_the_images_are_every_container_executors_and_only_those() -> None:
    images = {"a": "reg/a:1", "b": "reg/b:2", "c": "reg/a:1"}
    assert referenced_images(spec("p", images, ("importer",))) == {"reg/a:1", "reg/b:2"}
    assert referenced_images(spec("p", {}, ("importer",))) == frozenset()
    assert referenced_images({"pipelineInfo": {"name": "p"}}) == frozenset()
    assert referenced_images({"pipelineInfo": {"name": "p"}, "deploymentSpec": {}}) == frozenset()


# -- the audit store ----------------------------------------------------------------------------------


def test_the_audit_store_must_exist_and_be_writable_before_anything_is_deployed(tmp_path: Path) -> None:
    store = writable_store(str(tmp_path))
    assert store.write("metrics/deploys/x.json", b"{}").endswith("x.json")
    with pytest.raises(StoreError, match="does not exist"):
        writable_store(str(tmp_path / "absent"))
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match="is not a directory"):
        writable_store(str(tmp_path / "file"))


def test_an_audit_record_is_never_overwritten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two records stamped with the same instant: the second is refused, the first kept."""
    instant = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Frozen:
            return cls.fromtimestamp(instant.timestamp(), tz)

    monkeypatch.setattr(kfops.deploy, "datetime", Frozen)
    store = writable_store(str(tmp_path))
    first = kfops.deploy._audit(store, "https://kf", "team-ml", "c1", "ci", DeployResult(), [], None)
    with pytest.raises(ObjectExistsError, match="refusing to overwrite"):
        kfops.deploy._audit(store, "https://kf", "team-ml", "c2", "ci", DeployResult(), [], None)
    assert Path(first).name == "20250301T120000123456Z.json"
    assert json.loads(Path(first).read_text())["commit"] == "c1"


def test_the_deploy_options_are_given_by_name_only(tmp_path: Path) -> None:
    """Namespace, store, commit and actor are all strings: by position one would pass for another."""
    with pytest.raises(TypeError):
        deploy("https://kf", "token", tmp_path, *["team-ml", str(tmp_path)])
