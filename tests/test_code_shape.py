"""Where code lives (issue 16): shared facts and shared statistics each have one home.

* ``components/shared/names.py`` holds the names infra/, kfops/ and components/ must agree
  on; infra/ takes constants from nowhere else, and no other module spells them again;
* ``components/shared/gate_stats/`` holds the gate's statistics, imported by the champion
  task and by ``kfops gate`` alike (kfops.gate no longer reaches into a component);
* no source file is longer than 400 lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from components.shared import names
from tests.conftest import REPO

SOURCE_DIRS = ("components", "infra", "kfops")
MAX_LINES = 400


def _sources(*dirs: str) -> Iterator[Path]:
    for folder in dirs:
        yield from sorted((REPO / folder).rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _imported(path: Path) -> dict[str, set[str]]:
    """Modules a file imports (anywhere in it), each with the names taken from it."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.setdefault(alias.name, set())
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.setdefault(node.module, set()).update(alias.name for alias in node.names)
    return found


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _string_literals(path: Path) -> set[str]:
    """Every string constant of a file that is neither a docstring nor a piece of an f-string
    (``f"kfops-{stack}"`` names a role, not an image)."""
    tree = ast.parse(path.read_text())
    skip = _docstrings(tree) | {
        id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
    }


def _shared_values() -> dict[str, str]:
    """The string constants of `names` that are distinctive enough to search for."""
    values = {
        key: value
        for key, value in vars(names).items()
        if key.isupper() and isinstance(value, str) and value != names.PROJECT
    }
    values.update(
        {
            f"{key}[{i}]": v
            for key, value in vars(names).items()
            if key.isupper() and isinstance(value, tuple)
            for i, v in enumerate(value)
            if v != "true"
        }
    )
    return values


def test_infra_takes_constants_only_from_the_neutral_module() -> None:
    """The Pulumi program reads no kfops module and no component's code: shared names come from
    ``components/shared/names.py``; ``components/images.py`` only for the list of images."""
    allowed = {"components.shared.names": None, "components.images": {"component_names", "repository"}}
    for path in _sources("infra"):
        for module, taken in _imported(path).items():
            if module.split(".")[0] not in ("components", "kfops"):
                continue
            assert module in allowed, f"{_rel(path)} imports {module}"
            expected = allowed[module]
            assert expected is None or taken <= expected, f"{_rel(path)}: {taken - expected} from {module}"


def test_the_names_module_imports_nothing_of_the_project() -> None:
    """Every image, the CLI and the Pulumi program import it: it must cost them nothing."""
    imported = _imported(REPO / "components" / "shared" / "names.py")
    assert set(imported) <= {"__future__", "dataclasses", "types"}, imported


def test_every_shared_name_is_spelled_once() -> None:
    """No module of infra/, kfops/ or components/ repeats a value of `names` as a literal."""
    values = _shared_values()
    assert {"KSERVE_SERVICE_ACCOUNT", "MANAGED_PREFIX", "IMAGE_PREFIX", "TOKEN_POD_LABEL[0]"} <= set(values)
    repeated = []
    for path in _sources(*SOURCE_DIRS):
        if path == REPO / "components" / "shared" / "names.py":
            continue
        literals = _string_literals(path)
        for key, value in values.items():
            if value in literals:
                repeated.append(f"{_rel(path)} spells {value!r} (names.{key})")
    assert repeated == []


def test_gate_statistics_live_in_shared_and_both_users_import_them_from_there() -> None:
    champion = REPO / "components" / "champion"
    assert not (champion / "stats.py").exists() and not (champion / "decide.py").exists()
    assert "components.shared.gate_stats.decide" in _imported(champion / "core.py")
    gate_imports: set[str] = set()
    for path in _sources("kfops/gate"):
        gate_imports |= set(_imported(path))
    assert "components.shared.gate_stats.decide" in gate_imports
    for path in _sources("kfops", "benchmarks", "tests"):
        for module in _imported(path):
            assert not module.startswith(("components.champion.stats", "components.champion.decide")), (
                f"{_rel(path)} imports {module}"
            )
    # The gate reads evaluation records (evaluate, metrics_store) but no longer the champion task.
    assert not {m for m in gate_imports if m.startswith("components.champion")}


def test_no_source_file_is_longer_than_400_lines() -> None:
    long = [
        f"{_rel(p)}: {n} lines"
        for p in _sources(*SOURCE_DIRS)
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    ]
    assert long == []
