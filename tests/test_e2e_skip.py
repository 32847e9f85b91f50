"""The kind suite (tests/e2e) skips, with its reason, wherever it cannot run, and never hangs.

Each case runs pytest on tests/e2e in a subprocess with a controlled PATH (fake
``docker``/``kind``/``kubectl`` scripts where needed) and reads its summary: every
test must be reported skipped (none passed, none failed), with the reason.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.e2e import harness

E2E = REPO / "tests" / "e2e"
E2E_TESTS = len(re.findall(r"^def test_", (E2E / "test_kind.py").read_text(), flags=re.MULTILINE))


def _fake(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _pytest_e2e(bin_dir: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], float]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KFOPS_E2E")}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(E2E), "-q", "-rs", "-p", "no:cacheprovider", "-n", "0"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env={**clean, "PATH": str(bin_dir), **env},
    )
    return result, time.monotonic() - started


def _assert_all_skipped(result: subprocess.CompletedProcess[str], reason: str) -> None:
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert E2E_TESTS >= 5
    assert re.search(rf"\b{E2E_TESTS} skipped\b", out), out
    assert not re.search(r"\d+ (passed|failed|error)", out), out
    assert reason in out, out


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    path = tmp_path / "bin"
    path.mkdir()
    return path


def test_without_docker_and_kind_every_test_skips_saying_so(bin_dir: Path) -> None:
    result, _ = _pytest_e2e(bin_dir)
    _assert_all_skipped(result, "`docker` is not on PATH")
    assert "`kind` is not on PATH" in result.stdout


def test_an_unreachable_docker_daemon_is_the_reason(bin_dir: Path) -> None:
    _fake(
        bin_dir,
        "docker",
        'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2; exit 1',
    )
    _fake(bin_dir, "kind", "exit 0")
    _fake(bin_dir, "kubectl", "exit 0")
    result, _ = _pytest_e2e(bin_dir)
    _assert_all_skipped(result, "the Docker daemon is not reachable (Cannot connect to the Docker daemon")


def test_a_hanging_docker_daemon_is_given_up_on_quickly(bin_dir: Path) -> None:
    # A child that keeps the output pipe open: detection must not wait for it either.
    _fake(bin_dir, "docker", f"{shutil.which('sleep')} 120 & wait")
    _fake(bin_dir, "kind", "exit 0")
    _fake(bin_dir, "kubectl", "exit 0")
    result, seconds = _pytest_e2e(bin_dir, KFOPS_E2E_DETECT_TIMEOUT="2")
    _assert_all_skipped(result, "the Docker daemon did not answer `docker info` within 2s")
    assert seconds < 60


def test_with_everything_installed_the_suite_still_waits_to_be_asked(bin_dir: Path) -> None:
    """A plain `pytest` on a laptop with Docker and kind must not start building a cluster."""
    _fake(bin_dir, "docker", 'echo "27.5.1"')
    _fake(bin_dir, "kind", "exit 0")
    _fake(bin_dir, "kubectl", "exit 0")
    result, _ = _pytest_e2e(bin_dir)
    _assert_all_skipped(result, "kind e2e suite not requested")


def test_required_mode_fails_instead_of_skipping(bin_dir: Path) -> None:
    """CI sets KFOPS_E2E=required: a runner without Docker or kind must not go green."""
    result, _ = _pytest_e2e(bin_dir, KFOPS_E2E="required")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "KFOPS_E2E=required, but the kind e2e suite needs Docker" in result.stderr


def test_the_suite_and_the_workflow_pin_the_same_versions() -> None:
    """Remote kustomize bases are pinned to commits; kind and its node image agree everywhere."""
    remote = []
    for kustomization in sorted((E2E / "cluster").glob("*/kustomization.yaml")):
        for resource in yaml.safe_load(kustomization.read_text()).get("resources", []):
            if "://" in resource:
                remote.append(resource)
                assert re.search(r"\?ref=[0-9a-f]{40}$", resource), f"{kustomization}: {resource}"
    assert len(remote) == 4
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "e2e.yml").read_text())
    assert workflow["env"]["NODE_IMAGE"] == harness.NODE_IMAGE
    (kind_step,) = [s for s in workflow["jobs"]["kind"]["steps"] if "helm/kind-action@" in s.get("uses", "")]
    assert kind_step["with"]["version"] == harness.KIND_VERSION
    assert "KFOPS_E2E ?= 1" in (REPO / "Makefile").read_text()


def test_the_session_deadline_cuts_every_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """KFOPS_E2E_DEADLINE (CI: the job's end minus time for diagnostics): a slow phase fails the
    suite, which then writes its logs and junit, instead of the job being killed without them."""
    monkeypatch.setenv(harness.ENV_DEADLINE, str(time.time() + 2))
    assert harness.within_deadline(harness.BUILD_TIMEOUT) <= 2
    started = time.monotonic()
    with pytest.raises(harness.CommandError, match="timed out"):
        harness.run(["sleep", "30"], timeout=harness.BUILD_TIMEOUT)
    assert time.monotonic() - started < 10
    monkeypatch.delenv(harness.ENV_DEADLINE)
    assert harness.within_deadline(harness.LOAD_TIMEOUT) == harness.LOAD_TIMEOUT


def test_every_phase_timeout_is_below_the_job_timeout() -> None:
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "e2e.yml").read_text())
    job = workflow["jobs"]["kind"]["timeout-minutes"] * 60
    for timeout in (harness.BUILD_TIMEOUT, harness.LOAD_TIMEOUT, harness.RUN_TIMEOUT):
        assert timeout < job
    suite = next(s for s in workflow["jobs"]["kind"]["steps"] if "make e2e" in s.get("run", ""))
    assert harness.ENV_DEADLINE in suite["run"]  # the suite ends before the job does
