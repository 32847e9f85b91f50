"""A stateful local stand-in for the KFP v2beta1 REST API (the parts kfops uses).

Keeps pipelines and versions in memory, answers ``display_name`` filters, pages every
listing (``page_size`` capped at ``max_page_size``, ``next_page_token``), refuses
duplicate names with 409 like the real server, requires a Bearer token, and can
inject faults (a status for the next N requests, or a delay) to test retries and
timeouts. Every request is logged as ``(method, path)`` so tests can count uploads.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

PREFIX = "/apis/v2beta1"


@dataclass
class State:
    """What the fake server holds and how it misbehaves."""

    token: str = "good-token"
    server_version: str = "2.5.0"
    pipelines: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)
    faults: list[int] = field(default_factory=list)  # statuses for the next requests
    delay: float = 0.0
    fail_paths: dict[str, int] = field(default_factory=dict)  # path -> status, on every request
    slow_paths: tuple[str, ...] = ()  # delay only these path prefixes (default: every path)
    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)
    recurring: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_page_size: int = 2  # small, so every multi-item listing in the tests pages
    max_enabled: int = 0  # most enabled recurring runs ever seen at once for one display name
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enabled_by_name(self) -> dict[str, int]:
        """Enabled recurring runs per display name, right now."""
        counts: dict[str, int] = {}
        for run in self.recurring.values():
            if run["mode"] == "ENABLE":
                counts[run["display_name"]] = counts.get(run["display_name"], 0) + 1
        return counts

    def note_enabled(self) -> None:
        self.max_enabled = max([self.max_enabled, *self.enabled_by_name().values()])

    def uploads(self) -> int:
        """Requests that created a pipeline or a version."""
        return sum(
            1 for m, p in self.log if m == "POST" and (p.endswith("/create") or p.endswith("/versions"))
        )


def _matches(item: dict[str, Any], raw_filter: str | None) -> bool:
    if not raw_filter:
        return True
    for predicate in json.loads(raw_filter).get("predicates", []):
        value = predicate.get("stringValue", predicate.get("string_value"))
        if predicate.get("operation") in ("EQUALS", 1) and item.get(predicate["key"]) != value:
            return False
    return True


def _page(items: list[dict[str, Any]], field: str, query: dict[str, str], cap: int) -> dict[str, Any]:
    """One page of a listing, like the server: ``page_size`` (capped), ``page_token``, ``next_page_token``."""
    start = int(query.get("page_token") or 0)
    size = min(int(query.get("page_size") or cap), cap)
    page = items[start : start + size]
    body: dict[str, Any] = {field: page, "total_size": len(items)} if page else {}
    if start + size < len(items):
        body["next_page_token"] = str(start + size)
    return body


def make_handler(state: State) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def _handle(self, method: str) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            with state.lock:
                state.log.append((method, url.path))
                fault = state.faults.pop(0) if state.faults else None
            if state.delay and (not state.slow_paths or url.path.startswith(state.slow_paths)):
                time.sleep(state.delay)
            fault = fault or state.fail_paths.get(url.path)
            if fault:
                return self._send(fault, {"error": "injected", "code": fault})
            if url.path.endswith("/healthz"):
                return self._send(
                    200, {"multi_user": True, "tag_name": state.server_version, "commit_sha": "abc"}
                )
            if self.headers.get("Authorization") != f"Bearer {state.token}":
                return self._send(401, {"error": "Unauthorized", "code": 16})
            path = url.path.removeprefix(PREFIX)
            with state.lock:
                status, body = self._route(method, path, query)
            return self._send(status, body)

        def _route(self, method: str, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
            parts = [p for p in path.split("/") if p]
            if parts == ["pipelines"] and method == "GET":
                # Multi-user: a namespace's pipelines are listed only when that namespace is asked for.
                found = [
                    p
                    for p in state.pipelines.values()
                    if _matches(p, query.get("filter"))
                    and p.get("namespace", "") == query.get("namespace", "")
                ]
                return 200, _page(found, "pipelines", query, state.max_page_size)
            if parts == ["pipelines", "create"] and method == "POST":
                body = self._body()
                name = body["pipeline"]["display_name"]
                if any(p["display_name"] == name for p in state.pipelines.values()):
                    return 409, {"error": f"pipeline {name} already exists", "code": 6}
                pipeline_id = f"p{next(state.ids)}"
                state.pipelines[pipeline_id] = {**body["pipeline"], "pipeline_id": pipeline_id}
                state.versions[pipeline_id] = []
                self._add_version(pipeline_id, body["pipeline_version"])
                return 200, state.pipelines[pipeline_id]
            if len(parts) == 4 and parts[0] == "pipelines" and parts[2] == "versions" and method == "DELETE":
                kept = [v for v in state.versions.get(parts[1], []) if v["pipeline_version_id"] != parts[3]]
                if len(kept) == len(state.versions.get(parts[1], [])):
                    return 404, {"error": "version not found", "code": 5}
                state.versions[parts[1]] = kept
                return 200, {}
            if len(parts) == 3 and parts[0] == "pipelines" and parts[2] == "versions":
                pipeline_id = parts[1]
                if pipeline_id not in state.pipelines:
                    return 404, {"error": "pipeline not found", "code": 5}
                if method == "GET":
                    found = [v for v in state.versions[pipeline_id] if _matches(v, query.get("filter"))]
                    if query.get("sort_by", "").endswith(" desc"):  # ids grow with creation time
                        found = found[::-1]
                    return 200, _page(found, "pipeline_versions", query, state.max_page_size)
                body = self._body()
                if any(v["display_name"] == body["display_name"] for v in state.versions[pipeline_id]):
                    return 409, {"error": "version already exists", "code": 6}
                return 200, self._add_version(pipeline_id, body)
            if parts == ["experiments"]:
                if method == "GET":
                    found = [e for e in state.experiments.values() if _matches(e, query.get("filter"))]
                    return 200, _page(found, "experiments", query, state.max_page_size)
                body = self._body()
                experiment_id = f"e{next(state.ids)}"
                state.experiments[experiment_id] = {**body, "experiment_id": experiment_id}
                return 200, state.experiments[experiment_id]
            if parts == ["runs"]:
                if method == "GET":
                    found = list(state.runs.values())
                    return 200, _page(found, "runs", query, state.max_page_size)
                body = self._body()
                run_id = f"run{next(state.ids)}"
                state.runs[run_id] = {**body, "run_id": run_id, "state": "PENDING"}
                return 200, state.runs[run_id]
            if parts == ["recurringruns"]:
                if method == "GET":
                    found = [
                        r
                        for r in state.recurring.values()
                        if r.get("experiment_id") == query.get("experiment_id", r.get("experiment_id"))
                    ]
                    return 200, _page(found, "recurringRuns", query, state.max_page_size)
                body = self._body()
                run_id = f"r{next(state.ids)}"
                mode = body.get("mode", "ENABLE")
                state.recurring[run_id] = {**body, "recurring_run_id": run_id, "mode": mode}
                state.note_enabled()
                return 200, state.recurring[run_id]
            if len(parts) == 2 and parts[0] == "recurringruns":
                run_id, _, action = parts[1].partition(":")
                if run_id not in state.recurring:
                    return 404, {"error": "recurring run not found", "code": 5}
                if method == "DELETE":
                    del state.recurring[run_id]
                    return 200, {}
                if action in ("enable", "disable"):
                    state.recurring[run_id]["mode"] = "ENABLE" if action == "enable" else "DISABLE"
                    state.note_enabled()
                    return 200, {}
                return 200, state.recurring[run_id]
            return 404, {"error": f"no route {method} {path}", "code": 5}

        def _add_version(self, pipeline_id: str, version: dict[str, Any]) -> dict[str, Any]:
            stored = {**version, "pipeline_id": pipeline_id, "pipeline_version_id": f"v{next(state.ids)}"}
            state.versions[pipeline_id].append(stored)
            return stored

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

    return Handler


@contextmanager
def serve(state: State | None = None) -> Iterator[tuple[str, State]]:
    """Run the fake KFP API on a random loopback port; yields (host URL, state)."""
    state = state or State()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
