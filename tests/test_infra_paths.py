"""infra.yml runs on every change the Pulumi program can see: its imports and the files it globs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from tests.conftest import REPO

WORKFLOW = REPO / ".github" / "workflows" / "infra.yml"
PROGRAM = REPO / "infra" / "__main__.py"
#: Files the program reads other than by import (components/images.py: component_names()),
#: and what runs it (Pulumi.yaml's uv toolchain over .venv, made by scripts/bootstrap).
READ_BY_THE_PROGRAM = ("components/*/Dockerfile",)
RUNS_THE_PROGRAM = (
    "Pulumi.yaml",
    "Pulumi.dev.yaml",
    "Pulumi.prod.yaml",
    "pyproject.toml",
    "uv.lock",
    "scripts/bootstrap",
    ".github/workflows/infra.yml",
)


def _module_file(name: str) -> Path | None:
    base = REPO.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> set[str]:
    """Every module a file may import (module level or inside functions), as dotted names."""
    names: set[str] = set()
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{parent}.{node.module}" if node.module else parent
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return names


def program_files() -> set[str]:
    """The repository files the program imports, transitively, with their packages' __init__.py."""
    seen: set[Path] = set()
    todo = [PROGRAM]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imports(path):
            parts = name.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__.py and a/b/__init__.py
                found = _module_file(".".join(parts[:i]))
                if found and found not in seen:
                    todo.append(found)
    return {p.relative_to(REPO).as_posix() for p in seen}


def _matches(pattern: str, path: str) -> bool:
    """GitHub's path filter glob: ``**`` any characters, ``*`` any but ``/``, ``?`` one."""
    regex = re.escape(pattern).replace(r"\*\*", "\0").replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
    return re.fullmatch(regex.replace("\0", ".*"), path) is not None


def _filters() -> dict[str, list[str]]:
    on = yaml.safe_load(WORKFLOW.read_text())[True]  # PyYAML reads the key `on` as True
    return {event: on[event]["paths"] for event in ("pull_request", "push")}


def test_the_walk_finds_what_the_program_imports_from_outside_infra() -> None:
    files = program_files()
    for expected in (
        "infra/__main__.py",
        "infra/policies/__init__.py",
        "infra/policies/infra_roles.py",
        "infra/kubernetes_objects.py",
        "components/__init__.py",
        "components/images.py",
        "components/shared/__init__.py",
        "components/shared/names.py",
    ):
        assert expected in files, expected
    # Shared names come from components/shared/names.py, not from kfops or a component's code.
    assert not any(f.startswith(("pipelines/", "kfops/", "components/retrain_trigger/")) for f in files)


def test_the_path_matcher_follows_githubs_globs() -> None:
    assert _matches("infra/**", "infra/a/b.py") and _matches("Pulumi*.yaml", "Pulumi.dev.yaml")
    assert _matches("components/*/Dockerfile", "components/train/Dockerfile")
    assert not _matches("components/*/Dockerfile", "components/a/b/Dockerfile")
    assert not _matches("infra/**", "kfops/kserve.py")


def test_infra_yml_runs_on_every_file_the_program_reads() -> None:
    dockerfiles = [p.relative_to(REPO).as_posix() for p in REPO.glob("components/*/Dockerfile")]
    assert dockerfiles
    needed = program_files() | set(RUNS_THE_PROGRAM) | set(dockerfiles) | {"components/new_one/Dockerfile"}
    for event, patterns in _filters().items():
        missing = sorted(f for f in needed if not any(_matches(p, f) for p in patterns))
        assert missing == [], f"infra.yml on.{event}.paths misses {missing}"


def test_pull_requests_and_pushes_watch_the_same_paths() -> None:
    filters = _filters()
    assert filters["pull_request"] == filters["push"]
