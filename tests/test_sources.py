"""Data sources over HTTP: bounded retries with backoff, timeouts, clear failures."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from components.shared import sources
from components.shared.errors import InputError


class _Flaky(BaseHTTPRequestHandler):
    """Fails with 503 ``failures`` times, then serves a CSV; ``delay`` stalls every reply."""

    failures = 0
    delay = 0.0
    calls = 0

    def do_GET(self) -> None:
        type(self).calls += 1
        time.sleep(self.delay)
        if type(self).calls <= self.failures:
            self.send_response(503)
            self.end_headers()
            return
        body = b"a,target\n1,0\n2,1\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, type[_Flaky]]]:
    monkeypatch.setattr(sources, "HTTP_BACKOFF_SECONDS", 0.01)
    handler = type("Handler", (_Flaky,), {"failures": 0, "delay": 0.0, "calls": 0})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/data.csv", handler
    httpd.shutdown()


def test_transient_503s_are_retried_then_succeed(server: tuple[str, type[_Flaky]]) -> None:
    url, handler = server
    handler.failures = 2
    assert sources._https(url) == b"a,target\n1,0\n2,1\n"
    assert handler.calls == 3


def test_persistent_failure_gives_up_after_bounded_retries(server: tuple[str, type[_Flaky]]) -> None:
    url, handler = server
    handler.failures = 100
    with pytest.raises(InputError, match="cannot download"):
        sources._https(url)
    assert handler.calls == sources.HTTP_RETRIES + 1


def test_a_silent_server_times_out(server: tuple[str, type[_Flaky]], monkeypatch: pytest.MonkeyPatch) -> None:
    url, handler = server
    handler.delay = 4.0
    monkeypatch.setenv("KFOPS_NETWORK_TIMEOUT", "1.5")  # one deadline: connect, reads and retries
    started = time.monotonic()
    with pytest.raises(InputError, match=r"data\.csv timed out: no answer within 1\.5 s"):
        sources._https(url)
    assert time.monotonic() - started < 3


def test_plain_http_sources_are_refused() -> None:
    with pytest.raises(InputError, match="refusing plain-http"):
        sources.fetch_source("http://example.invalid/data.csv")
