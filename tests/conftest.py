"""Shared fixtures: a moto S3 server on 127.0.0.1 and a CLI runner."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
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


class RequestLog:
    """Every HTTP request the session's moto server received, in order (see `_recording`).

    Each entry: method, path (percent-encoded, as sent), query string, the headers that
    decide which AWS operation it is, the signing access key id, region and service (from
    the SigV4 credential scope), the response status and, for JSON-protocol services
    (ECR), the body.
    tests/iam/ maps them to IAM requests.
    """

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def since(self, mark: int) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.entries[mark:])

    def mark(self) -> int:
        with self.lock:
            return len(self.entries)


_KEPT_HEADERS = ("HTTP_X_AMZ_TARGET", "HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH", "HTTP_X_AMZ_COPY_SOURCE")
_CREDENTIAL = re.compile(r"Credential=([^/]+)/[^/]+/([^/]+)/([^/]+)/")


def _recording(app: Any, log: RequestLog) -> Any:
    """WSGI middleware in front of moto: note each request, then let moto answer it."""

    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        entry: dict[str, Any] = {
            "method": environ["REQUEST_METHOD"],
            "path": (environ.get("RAW_URI") or environ.get("PATH_INFO", "")).split("?", 1)[0],
            "query": environ.get("QUERY_STRING", ""),
            "headers": {k[5:].lower().replace("_", "-"): environ[k] for k in _KEPT_HEADERS if k in environ},
            "access_key": match.group(1) if match else "",
            "region": match.group(2) if match else "",
            "service": match.group(3) if match else "",
        }
        if "HTTP_X_AMZ_TARGET" in environ:  # JSON protocol: the resource is in the body
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            entry["body"] = body.decode("utf-8", "replace")
        with log.lock:
            log.entries.append(entry)

        def noting_status(status: str, headers: Any, *rest: Any) -> Any:
            entry["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, *rest)

        return app(environ, noting_status)

    return middleware


@pytest.fixture(scope="session")
def moto_server() -> Iterator[tuple[str, RequestLog]]:
    """A real HTTP AWS endpoint (moto's server) on a random loopback port, with a request log."""
    from moto.server import DomainDispatcherApplication, ThreadedMotoServer, create_backend_app
    from werkzeug.serving import make_server

    log = RequestLog()

    class RecordingMotoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:  # moto's own, with the app wrapped
            from moto.server import MotoRequestHandler  # type: ignore[attr-defined]

            app = _recording(DomainDispatcherApplication(create_backend_app), log)
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    server = RecordingMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}", log
    server.stop()


@pytest.fixture(scope="session")
def moto_endpoint(moto_server: tuple[str, RequestLog]) -> str:
    """The moto server's URL (one server per session)."""
    return moto_server[0]


@pytest.fixture(scope="session")
def aws_request_log(moto_server: tuple[str, RequestLog]) -> RequestLog:
    """What the moto server received (tests take a `mark()` first and read `since(mark)`)."""
    return moto_server[1]


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


@pytest.fixture(scope="session")
def champion_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store after ``kfops run training --promote``: one model version, its records, and that
    version as the first champion. Built once per session (per pytest-xdist worker: shared
    across workers, one's probes could show in another's before/after digests) and shared by
    modules, so it is read-only: a test that changes a store copies this one first
    (`copy_store`). Teardown fails any test run that changed it."""
    home = tmp_path_factory.mktemp("champion-home")
    store = home / "store"
    store.mkdir()
    ok = run_kfops("run", "training", "--promote", "--store", str(store), env={"KFOPS_HOME": str(home)})
    assert ok.returncode == 0, ok.stdout + ok.stderr
    before = tree_digest(store)
    yield store
    assert tree_digest(store) == before, "a test changed the shared champion_store; copy it first"


def copy_store(store: Path, parent: Path) -> Path:
    """A copy of ``store`` at ``parent/store`` (for a test that writes to it)."""
    return Path(shutil.copytree(store, parent / "store"))


def bound_by_file_modes(command: list[str]) -> list[str]:
    """``command``, run so that file modes bind it even when the tests run as root (as CI does).

    Root passes every permission check by CAP_DAC_OVERRIDE, so a mode-0500 directory proves
    nothing to it. `unshare --user` starts the command in a new user namespace: it stays the
    files' owner (uid 0), but capabilities held in a child namespace do not apply to the
    parent's files, so the owner's mode bits are what it gets, as any user would. Needs no
    other account and reaches the same paths (tmp_path, the venv) as the test.
    """
    if os.geteuid() != 0:
        return command
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("running as root and util-linux `unshare` is not installed: cannot drop root's override")
    probe = subprocess.run([unshare, "--user", "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"running as root and `unshare --user` is refused here: {probe.stderr.strip()}")
    return [unshare, "--user", "--", *command]


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

    class QuietServer(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that hangs up mid-request is the client's business, not stderr's

    server = QuietServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
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
