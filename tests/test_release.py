"""release.yml deploys only a tag whose commit is on main (scripts/check-release-tag)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "check-release-tag"
WORKFLOW = REPO / ".github" / "workflows" / "release.yml"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": os.devnull,
    "PATH": os.environ["PATH"],
}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True
    ).stdout.strip()


def check(clone: Path, tag: str, *rest: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), tag, *rest], cwd=clone, env=GIT_ENV, capture_output=True, text=True, timeout=30
    )


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone as release.yml's checkout makes it (fetch-depth: 0): origin/main, a branch, tags."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "f").write_text("1")
    git(work, "add", "f")
    git(work, "commit", "-qm", "main 1")
    git(work, "tag", "v1.0.0")
    (work / "f").write_text("2")
    git(work, "commit", "-qam", "main 2")
    git(work, "tag", "-a", "v1.1.0", "-m", "annotated")
    git(work, "switch", "-qc", "feature")
    (work / "f").write_text("unmerged")
    git(work, "commit", "-qam", "not on main")
    git(work, "tag", "v9.9.9")
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(origin))
    repo = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--no-checkout", str(origin), str(repo))
    return repo


def test_a_tag_on_main_passes(clone: Path) -> None:
    for tag in ("v1.0.0", "v1.1.0"):  # lightweight and annotated
        git(clone, "checkout", "-q", "--detach", f"refs/tags/{tag}")
        result = check(clone, tag)
        assert result.returncode == 0, result.stderr
        assert f"tag '{tag}'" in result.stdout and "is on origin/main" in result.stdout


def test_a_tag_off_main_is_refused(clone: Path) -> None:
    git(clone, "checkout", "-q", "--detach", "refs/tags/v9.9.9")
    result = check(clone, "v9.9.9")
    assert result.returncode == 2
    assert result.stderr.startswith("error: tag 'v9.9.9'") and "is not on origin/main" in result.stderr
    assert result.stderr.count("\n") == 1


def test_a_tag_moved_after_the_checkout_is_refused(clone: Path) -> None:
    git(clone, "checkout", "-q", "--detach", "refs/tags/v9.9.9")  # the run's commit (off main)
    git(clone, "tag", "-f", "v9.9.9", "origin/main")  # the tag now names a commit on main
    result = check(clone, "v9.9.9")
    assert result.returncode == 2 and "not at the checked-out commit" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["v1.0.0", "origin/nope"], "'origin/nope' is not in this clone"),
        (["v404"], "no tag 'v404'"),
        (["1.0.0"], "release tag '1.0.0' is invalid"),
        (["v1;rm -rf /"], "is invalid"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(clone: Path, args: list[str], message: str) -> None:
    git(clone, "checkout", "-q", "--detach", "refs/tags/v1.0.0")
    result = check(clone, *args)
    assert result.returncode == 2 and result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1


def test_production_waits_for_the_provenance_check() -> None:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    assert jobs["production"]["needs"] == "provenance"
    checkout, step = jobs["provenance"]["steps"]
    assert checkout["with"]["fetch-depth"] == 0
    assert step["run"].startswith("./scripts/check-release-tag ") and "origin/main" in step["run"]
    assert "environment" not in jobs["provenance"]  # checked before reviewers are asked
