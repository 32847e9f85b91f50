"""pr-comment.yml with hostile artifacts: the commenter posts only where the API says, only as itself.

Each test runs the `run:` command of pr-comment.yml's step, as the runner does (bash, the
step's `env:`, GITHUB_REPOSITORY, GITHUB_EVENT_PATH with a `workflow_run` payload as GitHub
sends it), with a recording stand-in for `gh` first on PATH, and asserts which API calls
were made.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

WORKFLOW = REPO / ".github" / "workflows" / "pr-comment.yml"
BASE = "example-org/kfops"
FORK = "mallory/kfops"
HEAD_SHA = "3f5e1c0d9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e"
TOKEN = "ghs_FAKE0TOKEN0THAT0MUST0NEVER0LEAK"
BOT = {"login": "github-actions[bot]", "type": "Bot", "id": 41898282}
HUMAN = {"login": "alice", "type": "User", "id": 1001}
GATE_MARKER = "<!-- kfops-gate:training -->"
PLAN_MARKER = "<!-- kfops-plan -->"


def workflow_run_event(
    *, head_repository: str = FORK, head_branch: str = "main", pull_requests: Any = ()
) -> dict:
    """A `workflow_run` (completed) payload for the gate run of a pull request."""
    owner = head_repository.split("/")[0]
    return {
        "action": "completed",
        "workflow_run": {
            "id": 9876543210,
            "name": "gate",
            "path": ".github/workflows/gate.yml",
            "workflow_id": 111222,
            "event": "pull_request",
            "status": "completed",
            "conclusion": "success",
            "head_branch": head_branch,
            "head_sha": HEAD_SHA,
            "run_number": 42,
            "pull_requests": list(pull_requests),  # empty for a fork's PR
            "head_repository": {
                "full_name": head_repository,
                "owner": {"login": owner},
                "fork": owner != "example-org",
            },
            "repository": {"full_name": BASE, "owner": {"login": "example-org"}},
        },
        "repository": {"full_name": BASE},
        "sender": {"login": owner},
    }


def pull(number: int, *, sha: str = HEAD_SHA, head_repo: str = FORK, branch: str = "main") -> dict:
    return {
        "number": number,
        "state": "open",
        "head": {"sha": sha, "ref": branch, "repo": {"full_name": head_repo}},
        "base": {"ref": "main", "repo": {"full_name": BASE}},
    }


def comment(comment_id: int, user: dict, body: str) -> dict:
    return {"id": comment_id, "user": user, "body": body}


def _step(name_part: str) -> dict:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    steps = workflow["jobs"]["comment"]["steps"]
    return next(s for s in steps if name_part in s.get("name", ""))


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    calls: list[dict[str, Any]]

    def requests(self) -> list[tuple[str, str]]:
        """(method, path without query) of each `gh api` call."""
        out = []
        for call in self.calls:
            argv = call["argv"]
            method = argv[argv.index("--method") + 1] if "--method" in argv else "GET"
            path = next(a for a in argv[1:] if a.startswith("repos/"))
            out.append((method, path.split("?")[0]))
        return out

    def writes(self) -> list[tuple[str, str, str]]:
        """(method, path, posted body) of each POST/PATCH."""
        return [
            (method, path, json.loads(call["stdin"])["body"])
            for (method, path), call in zip(self.requests(), self.calls, strict=True)
            if method in ("POST", "PATCH")
        ]


@pytest.fixture
def run_step(tmp_path: Path):
    """Run pr-comment.yml's gate step on an artifact: (files, event, API answers) -> Result."""

    def run(
        files: dict[str, bytes | Path],
        responses: dict[str, Any],
        event: dict | None = None,
        step: str = "gate report",
    ) -> Result:
        work = tmp_path / "work"
        (work / "scripts").mkdir(parents=True)
        shutil.copy(REPO / "scripts" / "upsert-pr-comment", work / "scripts" / "upsert-pr-comment")
        report = work / "report"
        report.mkdir()
        for name, data in files.items():
            if isinstance(data, Path):
                (report / name).symlink_to(data)  # a crafted archive can hold links
            else:
                (report / name).write_bytes(data)
        standin = tmp_path / "gh-standin"
        standin.mkdir()
        (standin / "responses.json").write_text(json.dumps(responses))
        (standin / "calls.jsonl").write_text("")
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        gh = bin_dir / "gh"
        gh.write_text(
            f'#!/bin/sh\nexec "{sys.executable}" "{REPO / "tests" / "fixtures" / "gh_standin.py"}" "$@"\n'
        )
        gh.chmod(0o755)
        event_path = tmp_path / "event.json"
        event_path.write_text(json.dumps(event or workflow_run_event()))

        spec = _step(step)
        env_values = {k: str(v).replace("${{ github.token }}", TOKEN) for k, v in spec.get("env", {}).items()}
        assert "${{" not in json.dumps(env_values), "the test only knows github.token"
        env = {
            "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin",
            "HOME": str(tmp_path),
            "GITHUB_REPOSITORY": BASE,
            "GITHUB_EVENT_NAME": "workflow_run",
            "GITHUB_EVENT_PATH": str(event_path),
            "GH_STANDIN_DIR": str(standin),
            **env_values,
        }
        assert "${{" not in spec["run"], "the step's command must take no expression"
        result = subprocess.run(
            ["bash", "-e", "-c", spec["run"]], cwd=work, env=env, capture_output=True, text=True, timeout=60
        )
        calls = [json.loads(line) for line in (standin / "calls.jsonl").read_text().splitlines()]
        return Result(result.returncode, result.stdout, result.stderr, calls)

    return run


def fork_lookup(*pulls: dict) -> dict[str, Any]:
    return {f"GET repos/{BASE}/pulls": list(pulls)}


def _fenced_text(body: str) -> str:
    """The text inside the body's code block; asserts the block is the only rendered content."""
    lines = body.split("\n")
    opening = next(i for i, line in enumerate(lines) if line.startswith("```"))
    fence = re.match(r"`+", lines[opening]).group(0)
    closing = max(i for i, line in enumerate(lines) if line == fence)
    inside = lines[opening + 1 : closing]
    assert all(not line.startswith(fence) for line in inside), "the text closes the fence"
    assert closing > opening
    return "\n".join(inside)


def test_a_forks_pr_is_found_through_the_api_and_the_bots_comment_updated(run_step) -> None:
    responses = {
        **fork_lookup(pull(7)),
        f"GET repos/{BASE}/issues/7/comments": [
            comment(500, HUMAN, "Looks good"),
            comment(501, BOT, GATE_MARKER + "\n### old report"),
        ],
    }
    files = {"comment.md": b"<!-- kfops-gate:training -->\n## Gate: pass\n", "plan.md": b"# Plan\nnothing\n"}
    result = run_step(files, responses)
    assert result.returncode == 0, result.stderr
    lookup = result.calls[0]["argv"][-1]
    assert (
        lookup.startswith(f"repos/{BASE}/pulls?")
        and "head=mallory%3Amain" in lookup
        and "state=open" in lookup
    )
    assert result.requests() == [
        ("GET", f"repos/{BASE}/pulls"),
        ("GET", f"repos/{BASE}/issues/7/comments"),
        ("PATCH", f"repos/{BASE}/issues/comments/501"),
        ("GET", f"repos/{BASE}/issues/7/comments"),
        ("POST", f"repos/{BASE}/issues/7/comments"),
    ]
    gate_body, plan_body = (w[2] for w in result.writes())
    assert gate_body.startswith(GATE_MARKER + "\n### Performance gate\n")
    assert "## Gate: pass" in _fenced_text(gate_body)
    assert plan_body.startswith(PLAN_MARKER + "\n")


def test_the_pr_number_in_the_artifact_is_ignored(run_step) -> None:
    responses = {**fork_lookup(pull(7)), f"GET repos/{BASE}/issues/7/comments": []}
    files = {"pr-number.txt": b"1\n", "comment.md": b"report\n"}
    result = run_step(files, responses)
    assert result.returncode == 0, result.stderr
    assert result.requests()[-1] == ("POST", f"repos/{BASE}/issues/7/comments")
    assert not any("/issues/1/" in path for _, path in result.requests())


def test_the_pr_of_a_same_repository_branch_is_checked_by_the_api_too(run_step) -> None:
    event = workflow_run_event(head_repository=BASE, head_branch="feature", pull_requests=[{"number": 1}])
    responses = {
        **fork_lookup(pull(12, head_repo=BASE, branch="feature")),
        f"GET repos/{BASE}/issues/12/comments": [],
    }
    result = run_step({"comment.md": b"report\n"}, responses, event)
    assert result.returncode == 0, result.stderr
    assert "head=example-org%3Afeature" in result.calls[0]["argv"][-1]
    assert result.requests()[-1] == ("POST", f"repos/{BASE}/issues/12/comments")


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param([pull(7, sha="0" * 40)], id="the PR moved on to another commit"),
        pytest.param([pull(7, head_repo="mallory/other-repo")], id="another repository of the same owner"),
        pytest.param([], id="no open PR"),
    ],
)
def test_nothing_is_posted_unless_the_prs_head_is_the_runs(run_step, answer: list[dict]) -> None:
    result = run_step({"comment.md": b"report\n"}, fork_lookup(*answer))
    assert result.returncode == 0, result.stderr
    assert "nothing posted" in result.stdout
    assert result.requests() == [("GET", f"repos/{BASE}/pulls")]


def test_an_empty_first_line_edits_no_one_elses_comment(run_step) -> None:
    """Before: marker = "" made the filter startswith("") and PATCHed the PR's first comment."""
    responses = {
        **fork_lookup(pull(7)),
        f"GET repos/{BASE}/issues/7/comments": [
            comment(500, HUMAN, "first comment, by a person"),
            comment(502, BOT, PLAN_MARKER + "\nthe plan"),  # the bot's, but another marker
        ],
    }
    result = run_step({"comment.md": b"\nno marker here\n"}, responses)
    assert result.returncode == 0, result.stderr
    assert [(m, p) for m, p, _ in result.writes()] == [("POST", f"repos/{BASE}/issues/7/comments")]


def test_a_jq_injecting_marker_is_only_text(run_step) -> None:
    """Before: the first line was pasted into a --jq program, which could read $ENV.GH_TOKEN."""
    hostile = b'<!-- x")) | $ENV.GH_TOKEN | tostring | ("a" -->\n$(echo pwned) `id` ${GH_TOKEN}\n'
    responses = {
        **fork_lookup(pull(7)),
        f"GET repos/{BASE}/issues/7/comments": [comment(500, HUMAN, "hello"), comment(501, BOT, GATE_MARKER)],
    }
    result = run_step({"comment.md": hostile}, responses)
    assert result.returncode == 0, result.stderr
    assert [(m, p) for m, p, _ in result.writes()] == [("PATCH", f"repos/{BASE}/issues/comments/501")]
    everything = json.dumps(result.calls) + result.stdout + result.stderr
    assert TOKEN not in everything
    assert not any("--jq" in call["argv"] or "-q" in call["argv"] for call in result.calls)
    assert "$ENV.GH_TOKEN" in _fenced_text(result.writes()[0][2])  # posted verbatim, as inert text


@pytest.mark.parametrize(
    "author",
    [
        pytest.param(HUMAN, id="a person"),
        pytest.param({"login": "evil[bot]", "type": "Bot"}, id="another bot"),
    ],
)
def test_a_comment_with_the_marker_by_someone_else_is_never_edited(run_step, author: dict) -> None:
    responses = {
        **fork_lookup(pull(7)),
        f"GET repos/{BASE}/issues/7/comments": [comment(500, author, GATE_MARKER + "\nmy own words")],
    }
    result = run_step({"comment.md": GATE_MARKER.encode() + b"\nreport\n"}, responses)
    assert result.returncode == 0, result.stderr
    assert [(m, p) for m, p, _ in result.writes()] == [("POST", f"repos/{BASE}/issues/7/comments")]


@pytest.mark.parametrize("byte", [b"A", b"`", "é".encode()], ids=["letters", "backticks", "two-byte"])
def test_a_10_mb_body_is_capped(run_step, byte: bytes) -> None:
    responses = {**fork_lookup(pull(7)), f"GET repos/{BASE}/issues/7/comments": []}
    data = byte * (10 * 1024 * 1024 // len(byte))
    result = run_step({"comment.md": data}, responses)
    assert result.returncode == 0, result.stderr
    ((_, _, body),) = result.writes()
    assert len(body) <= 65_536
    assert f"Truncated: the report has {len(data)} bytes" in body
    _fenced_text(body)


def test_non_utf8_bytes_are_replaced_not_fatal(run_step) -> None:
    responses = {**fork_lookup(pull(7)), f"GET repos/{BASE}/issues/7/comments": []}
    result = run_step({"comment.md": b"score \xff\xfe 0.9\x00\x1b[31m red\n"}, responses)
    assert result.returncode == 0, result.stderr
    ((_, _, body),) = result.writes()
    text = _fenced_text(body)
    assert "score \ufffd\ufffd 0.9" in text and "\x00" not in body and "\x1b" not in body


def test_mentions_html_and_fence_breaks_stay_inside_the_code_block(run_step) -> None:
    responses = {**fork_lookup(pull(7)), f"GET repos/{BASE}/issues/7/comments": []}
    hostile = b"````````\n@example-org/maintainers <img src=x onerror=alert(1)> ![](https://evil.example/p.png)\n```\n"
    result = run_step({"comment.md": hostile}, responses)
    assert result.returncode == 0, result.stderr
    ((_, _, body),) = result.writes()
    text = _fenced_text(body)  # asserts no line of the text closes the fence
    assert "@example-org/maintainers" in text and "<img" in text
    outside = body.replace(text, "")
    assert "@" not in outside and "<img" not in outside


def test_a_symlink_in_the_artifact_is_refused(run_step, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("runner secret")
    responses = {**fork_lookup(pull(7)), f"GET repos/{BASE}/issues/7/comments": []}
    result = run_step({"comment.md": secret}, responses)
    assert (
        result.returncode == 2
        and result.stderr.startswith("error: ")
        and "not a regular file" in result.stderr
    )
    assert "runner secret" not in json.dumps(result.calls)
    assert [w for w in result.requests() if w[0] != "GET"] == []


def test_a_run_not_triggered_by_a_pull_request_is_refused(run_step) -> None:
    event = workflow_run_event()
    event["workflow_run"]["event"] = "push"
    result = run_step({"comment.md": b"report\n"}, fork_lookup(pull(7)), event)
    assert result.returncode == 2 and result.stderr.startswith("error: ") and result.calls == []


def test_the_infra_step_uses_its_own_constant_marker(run_step) -> None:
    responses = {**fork_lookup(pull(7)), f"GET repos/{BASE}/issues/7/comments": []}
    result = run_step(
        {"comment.md": b"<!-- kfops-gate:training -->\npreview\n"}, responses, step="infrastructure"
    )
    assert result.returncode == 0, result.stderr
    ((_, _, body),) = result.writes()
    assert body.startswith("<!-- kfops:infra-preview -->\n### Infrastructure preview")


def test_the_workflow_takes_nothing_from_the_artifact_but_the_report_files() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    job = workflow["jobs"]["comment"]
    text = WORKFLOW.read_text()
    assert "pr-number" not in text and "--jq" not in text
    assert job["permissions"] == {"contents": "read", "actions": "read", "pull-requests": "write"}
    assert "head_branch" in job["concurrency"]["group"] and "head_repository" in job["concurrency"]["group"]
    for step in job["steps"]:
        if "actions/checkout@" in step.get("uses", ""):
            assert "ref" not in step.get("with", {})  # never the PR's head
