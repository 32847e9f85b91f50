"""Layering rules: cores are pure, wrappers only wire, images hold what wrappers import."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from components.images import EXTRA_INPUTS, component_names
from tests.conftest import REPO

COMPONENTS = REPO / "components"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_every_component_has_the_expected_files() -> None:
    assert set(component_names()) == {
        "ingest",
        "split",
        "preprocess",
        "train",
        "evaluate",
        "model_storage",
        "metrics_store",
        "champion",
        "batch_predict",
        "monitoring",
        "retrain_trigger",
    }
    for name in component_names():
        folder = COMPONENTS / name
        for required in (
            "core.py",
            "io.py",
            "__main__.py",
            "component.py",
            "Dockerfile",
            "README.md",
            "requirements.txt",
        ):
            assert (folder / required).is_file(), f"{name} lacks {required}"


@pytest.mark.parametrize("name", component_names())
def test_core_imports_neither_kfp_nor_boto3(name: str) -> None:
    """Checked both statically and by importing the core in a fresh interpreter."""
    static = {m.split(".")[0] for m in _imports(COMPONENTS / name / "core.py")}
    assert not static & {"kfp", "boto3", "botocore"}
    code = (
        f"import json, sys; import components.{name}.core; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('kfp', 'boto3', 'botocore'))))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
        ).stdout
    )
    assert loaded == []


@pytest.mark.parametrize("name", component_names())
def test_component_code_only_imports_shared_code_and_itself(name: str) -> None:
    """An image copies components/shared and its own folder only (see its Dockerfile)."""
    for path in (COMPONENTS / name).glob("*.py"):
        if path.name == "component.py":
            continue  # the KFP wrapper's module runs at compile time, not in the image
        for module in _imports(path):
            if module.startswith("components."):
                allowed = ("shared", name, *(e.split("/")[0] for e in EXTRA_INPUTS[name]))
                assert module.split(".")[1] in allowed, f"{path}: imports {module}"


@pytest.mark.parametrize("name", component_names())
def test_wrapper_body_imports_only_its_own_component_and_shared(name: str) -> None:
    tree = ast.parse((COMPONENTS / name / "component.py").read_text())
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert len(functions) == 1
    for node in ast.walk(functions[0]):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("components."):
            assert node.module.split(".")[1] in ("shared", name)


def test_pipelines_only_wire_components() -> None:
    """Pipeline modules import kfp and component wrappers, nothing that computes."""
    for path in (REPO / "pipelines").glob("*.py"):
        for module in _imports(path):
            assert module in ("kfp", "typing") or module.endswith(".component"), f"{path}: {module}"
