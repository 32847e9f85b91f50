"""Shared fixtures: a moto S3 server on 127.0.0.1 and a CLI runner."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
KFOPS = [sys.executable, "-m", "kfops"]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real HTTP S3 endpoint (moto's server) on a random loopback port."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment pointing boto3 (in this process and in subprocesses) at moto."""
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CA_BUNDLE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def s3_bucket(aws_env: dict[str, str]) -> str:
    """A new, empty bucket on the moto server."""
    import boto3

    name = f"kfops-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (to prove nothing stored changed)."""
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def run_kfops(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m kfops ARGS`` as a user would, capturing output."""
    return subprocess.run(
        [*KFOPS, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=cwd or REPO,
    )


def fresh_ecr_repositories(names: list[str]) -> None:
    """Empty ECR repositories of these names on the (session-wide) moto server."""
    import boto3

    ecr = boto3.client("ecr")
    for name in names:
        with contextlib.suppress(ecr.exceptions.RepositoryNotFoundException):
            ecr.delete_repository(repositoryName=name, force=True)
        ecr.create_repository(repositoryName=name)


def run_checkov(directory: Path, framework: str) -> subprocess.CompletedProcess[str]:
    """Run checkov offline on ``directory`` for one framework (kubernetes, github_actions, ...)."""
    import shutil
    import sys

    checkov = shutil.which("checkov") or str(Path(sys.prefix) / "bin" / "checkov")
    return subprocess.run(
        [checkov, "-d", str(directory), "--framework", framework, "--skip-download", "--compact", "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]], list[int]]]:
    """A local webhook: (URL, received JSON bodies, statuses to answer next (default 200))."""
    received: list[dict[str, Any]] = []
    statuses: list[int] = []

    class Hook(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = statuses.pop(0) if statuses else 200
            if status == 200:
                received.append(json.loads(body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received, statuses
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def kfp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    """The fake KFP 2.17 API (tests/kfp_fake) with fast retries; every request kfops sent must
    validate against the upstream swagger (checked when the test ends)."""
    from components.kfp_api import RetryPolicy, client
    from tests.kfp_fake import State, serve

    monkeypatch.setattr(client, "DEFAULT_POLICY", RetryPolicy(backoff=0.01, read_timeout=5.0, deadline=20.0))
    with serve(State()) as (host, state):
        yield host, state
        assert state.violations == [], state.violations
