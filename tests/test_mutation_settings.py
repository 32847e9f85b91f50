"""The mutation-testing settings stay true to the code they name (benchmarks/mutation)."""

from __future__ import annotations

import re
import tomllib

import pytest

from tests.conftest import REPO

SETTINGS = REPO / "benchmarks" / "mutation"
MODULES = tomllib.loads((SETTINGS / "modules.toml").read_text())
FAULTS = tomllib.loads((SETTINGS / "faults.toml").read_text())["fault"]
SURVIVORS = tomllib.loads((SETTINGS / "survivors.toml").read_text()).get("survivor", [])


@pytest.mark.parametrize("module", MODULES["module"], ids=lambda m: m["path"])
def test_every_mutated_module_and_its_test_files_exist(module: dict) -> None:
    assert (REPO / module["path"]).is_file()
    files = [t for t in module["tests"] if t.startswith("tests/")]
    assert files and all((REPO / t.split("::")[0]).exists() for t in files)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda f: f["name"])
def test_every_hand_made_fault_still_applies_to_exactly_one_place(fault: dict) -> None:
    # A refactor that moves the faulted line must move the fault with it, or the
    # fault would silently test nothing.
    assert (REPO / fault["file"]).read_text().count(fault["old"]) == 1
    assert all((REPO / t).exists() for t in fault["tests"] if t.startswith("tests/"))


@pytest.mark.parametrize("entry", SURVIVORS, ids=lambda s: f"{s['module']}: {s['text'][:40]}")
def test_every_explained_survivor_names_a_line_that_exists(entry: dict) -> None:
    lines = {line.strip() for line in (REPO / entry["module"]).read_text().splitlines()}
    assert entry["text"] in lines and entry["reason"].strip()
    re.compile(entry["operator"])


def test_the_excluded_operators_are_valid_patterns() -> None:
    for pattern in MODULES["operators"]["exclude"]:
        re.compile(pattern)
    makefile = (REPO / "Makefile").read_text()
    assert "\nmutation:" in makefile and "\nmutation-faults:" in makefile  # the README's entry points


def test_an_explanation_whose_mutant_is_killed_now_is_reported_as_left_over() -> None:
    """A left-over reason could excuse a later, different survivor of the same line."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("mutation_run", SETTINGS / "run.py")
    assert spec and spec.loader
    runner = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = runner  # dataclasses look their module up while it loads
    try:
        spec.loader.exec_module(runner)
    finally:
        del sys.modules[spec.name]
    module = runner.Module(path="m.py", tests=("tests/t.py",))
    kept = {"module": "m.py", "operator": "core/NumberReplacer", "text": "x = 1", "reason": "r"}
    gone = {"module": "m.py", "operator": "core/AddNot", "text": "if a:", "reason": "r"}
    other = {"module": "n.py", "operator": "core/AddNot", "text": "if a:", "reason": "r"}
    survived = [{"operator": "core/NumberReplacer", "text": "x = 1", "line": 3}]
    assert runner.unused_explanations(module, survived, [kept, gone, other]) == [gone]
