"""GitHub Actions workflows: SHA-pinned actions, read-only defaults, zizmor-clean."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO, run_checkov

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


def test_every_action_is_pinned_to_a_commit_sha() -> None:
    assert WORKFLOWS
    for path in WORKFLOWS:
        for ref in re.findall(r"uses:\s*(\S+)", path.read_text()):
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref}"


def test_no_default_permissions_and_every_job_declares_its_own() -> None:
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        assert workflow.get("permissions") == {}, path.name
        for name, job in workflow["jobs"].items():
            assert job.get("permissions", {}).get("contents") == "read", f"{path.name}:{name}"
            assert "write-all" not in str(job.get("permissions")), f"{path.name}:{name}"


def test_checkout_never_persists_credentials_and_no_pull_request_target() -> None:
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        assert "pull_request_target" not in workflow.get(True, workflow.get("on", {})), path.name
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if "actions/checkout@" in step.get("uses", ""):
                    assert step["with"]["persist-credentials"] is False, path.name


def test_checkov_finds_nothing_in_the_workflows() -> None:
    result = run_checkov(REPO / ".github", "github_actions")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_zizmor_offline_finds_nothing() -> None:
    zizmor = shutil.which("zizmor") or str(Path(sys.prefix) / "bin" / "zizmor")
    result = subprocess.run(
        [zizmor, "--offline", str(REPO / ".github" / "workflows")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_shell_scripts_pass_shellcheck() -> None:
    scripts = [REPO / ".ci" / "run", REPO / "scripts" / "bootstrap", REPO / "scripts" / "upsert-pr-comment"]
    shellcheck = shutil.which("shellcheck") or str(Path(sys.prefix) / "bin" / "shellcheck")
    result = subprocess.run([shellcheck, *map(str, scripts)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_jobs_that_use_oidc_ask_for_id_token_only_where_needed() -> None:
    for path in WORKFLOWS:
        text = path.read_text()
        workflow = yaml.safe_load(text)
        for name, job in workflow["jobs"].items():
            uses_aws = "configure-aws-credentials" in yaml.safe_dump(job)
            wants_token = job.get("permissions", {}).get("id-token") == "write"
            assert uses_aws == wants_token, f"{path.name}:{name}"
