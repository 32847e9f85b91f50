"""The README's first lines are exactly the two commands, and CI runs the test one."""

from __future__ import annotations

import re

from tests.conftest import REPO


def _commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    block = re.search(r"```(?:bash|sh)\n(.*?)```", text, re.S)
    assert block, "README has no command block"
    assert text.index(block.group(0)) < 400, "the commands must open the README"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands() -> None:
    demo, tests = _commands()
    assert demo.endswith(".venv/bin/kfops demo")
    assert tests.endswith(".venv/bin/pytest")


def test_ci_runs_the_readme_test_command() -> None:
    _, tests = _commands()
    assert tests in (REPO / ".ci" / "run").read_text()


def test_bootstrap_installs_the_locked_uv_version() -> None:
    bootstrap = (REPO / "scripts" / "bootstrap").read_text()
    pinned = re.search(r"uv_version=(\S+)", bootstrap)
    locked = re.search(r'\[\[package\]\]\nname = "uv"\nversion = "([^"]+)"', (REPO / "uv.lock").read_text())
    assert pinned and locked and pinned.group(1) == locked.group(1)
