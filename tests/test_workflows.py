"""GitHub Actions workflows: SHA-pinned actions, read-only defaults, zizmor-clean."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


def test_every_action_is_pinned_to_a_commit_sha() -> None:
    assert WORKFLOWS
    for path in WORKFLOWS:
        for ref in re.findall(r"uses:\s*(\S+)", path.read_text()):
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref}"


def test_default_permissions_are_read_only() -> None:
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        assert workflow.get("permissions") == {"contents": "read"}, path.name


def test_zizmor_offline_finds_nothing() -> None:
    zizmor = shutil.which("zizmor") or str(Path(sys.prefix) / "bin" / "zizmor")
    result = subprocess.run(
        [zizmor, "--offline", str(REPO / ".github" / "workflows")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
