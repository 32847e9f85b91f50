"""`kfops compile`: deterministic IR YAML that pins images and installs nothing at run time."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from components.images import component_names, image
from components.shared.webhook import WEBHOOK_ENV
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
    compiled = _compile(tmp_path)
    assert sorted(compiled) == ["inference.yaml", "monitoring.yaml", "training.yaml"]
    images = set()
    for text in compiled.values():
        spec = next(yaml.safe_load_all(text))  # a second document, if any, is the platform spec
        for executor in spec["deploymentSpec"]["executors"].values():
            container = executor["container"]
            command = " ".join(container["command"] + container.get("args", []))
            assert "pip install" not in command and "pip3 install" not in command
            assert "kfp.dsl.executor_main" in command
            images.add(container["image"])
    assert images == {image(name) for name in component_names()}  # every component is used, by its image


def test_every_task_declares_cpu_and_memory_requests(tmp_path: Path) -> None:
    for pipeline, text in _compile(tmp_path).items():
        for name, executor in next(yaml.safe_load_all(text))["deploymentSpec"]["executors"].items():
            resources = executor["container"].get("resources", {})
            assert resources.get("resourceCpuRequest"), f"{pipeline}: {name}"
            assert resources.get("resourceMemoryRequest"), f"{pipeline}: {name}"


def test_only_the_monitoring_trigger_task_gets_the_kfp_token_label(tmp_path: Path) -> None:
    """The PodDefault mounts the KFP token into pods labelled access-ml-pipeline=true: only the trigger."""
    labelled = {}
    for pipeline, text in _compile(tmp_path).items():
        documents = list(yaml.safe_load_all(text))
        platform = documents[1] if len(documents) > 1 else {}
        executors = (
            platform.get("platforms", {}).get("kubernetes", {}).get("deploymentSpec", {}).get("executors", {})
        )
        for name, config in executors.items():
            labels = config.get("podMetadata", {}).get("labels", {})
            if labels:
                labelled[f"{pipeline}/{name}"] = labels
    assert labelled == {"monitoring.yaml/exec-retrain-trigger": {"access-ml-pipeline": "true"}}


def test_the_webhook_url_is_no_parameter_but_an_optional_secret(tmp_path: Path) -> None:
    """Parameters live in git (schedules.yaml), the KFP UI and run records: a secret must not."""
    documents = list(yaml.safe_load_all(_compile(tmp_path)["monitoring.yaml"]))
    spec, platform = documents[0], documents[1]
    parameters = spec["root"].get("inputDefinitions", {}).get("parameters", {})
    assert "store" in parameters and not any("webhook" in name for name in parameters)
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    secrets = executors["exec-retrain-trigger"]["secretAsEnv"]
    assert len(secrets) == 1 and secrets[0]["optional"] is True
    assert secrets[0]["keyToEnv"] == [{"secretKey": "url", "envVar": WEBHOOK_ENV}]
    assert "kfops-webhook" in json.dumps(secrets[0])
    assert [name for name, config in executors.items() if "secretAsEnv" in config] == ["exec-retrain-trigger"]


def test_the_trigger_runs_only_when_the_rule_fires(tmp_path: Path) -> None:
    spec = next(yaml.safe_load_all(_compile(tmp_path)["monitoring.yaml"]))
    dag = spec["root"]["dag"]["tasks"]
    condition = dag["condition-1"]["triggerPolicy"]["condition"]
    assert condition == "inputs.parameter_values['pipelinechannel--monitoring-Output'] == true"
    inner = spec["components"]["comp-condition-1"]["dag"]["tasks"]
    assert list(inner) == ["retrain-trigger"]
    assert inner["retrain-trigger"]["cachingOptions"] == {}  # never served from cache


def test_registry_comes_from_one_setting(tmp_path: Path) -> None:
    registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    spec = yaml.safe_load(_compile(tmp_path, env={"KFOPS_IMAGE_REGISTRY": registry})["training.yaml"])
    images = {e["container"]["image"] for e in spec["deploymentSpec"]["executors"].values()}
    assert all(i.startswith(f"{registry}/kfops-") for i in images)
