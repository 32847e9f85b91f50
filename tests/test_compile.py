"""`kfops compile`: deterministic IR YAML that pins images and installs nothing at run time."""

from __future__ import annotations

from pathlib import Path

import yaml

from components.images import component_names, image
from tests.conftest import run_kfops


def _compile(out: Path, env: dict[str, str] | None = None) -> dict[str, bytes]:
    result = run_kfops("compile", "--output-dir", str(out), env=env)
    assert result.returncode == 0, result.stderr
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.yaml"))}


def test_compile_is_byte_identical_across_runs(tmp_path: Path) -> None:
    first = _compile(tmp_path / "a")
    second = _compile(tmp_path / "b", env={"PYTHONHASHSEED": "123"})
    assert "training.yaml" in first
    assert first == second


def test_compiled_yaml_has_no_runtime_pip_install_and_uses_component_images(tmp_path: Path) -> None:
    spec = yaml.safe_load(_compile(tmp_path)["training.yaml"])
    executors = spec["deploymentSpec"]["executors"]
    assert len(executors) == 7
    images = set()
    for executor in executors.values():
        container = executor["container"]
        text = " ".join(container["command"] + container.get("args", []))
        assert "pip install" not in text and "pip3 install" not in text
        assert "kfp.dsl.executor_main" in text
        images.add(container["image"])
    assert images == {image(name) for name in component_names()}


def test_every_task_declares_cpu_and_memory_requests(tmp_path: Path) -> None:
    spec = yaml.safe_load(_compile(tmp_path)["training.yaml"])
    for name, executor in spec["deploymentSpec"]["executors"].items():
        resources = executor["container"].get("resources", {})
        assert resources.get("resourceCpuRequest"), name
        assert resources.get("resourceMemoryRequest"), name


def test_registry_comes_from_one_setting(tmp_path: Path) -> None:
    registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    spec = yaml.safe_load(_compile(tmp_path, env={"KFOPS_IMAGE_REGISTRY": registry})["training.yaml"])
    images = {e["container"]["image"] for e in spec["deploymentSpec"]["executors"].values()}
    assert all(i.startswith(f"{registry}/kfops-") for i in images)
