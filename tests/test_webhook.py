"""Webhook failures name the host and the status, never the URL's secret path or query."""

from __future__ import annotations

import socket
import subprocess
import sys
from typing import Any

import pytest

from components.shared.webhook import notify, where
from tests.conftest import REPO

SECRET_PATH = "/services/T0SECRET/B0SECRET/XyZsecretTOKENpart"
SECRET_QUERY = "token=QuerySecret123"
SECRET_PARTS = ("T0SECRET", "B0SECRET", "XyZsecretTOKENpart", "QuerySecret123", "hunter2")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        for part in SECRET_PARTS:
            assert part not in text, f"{part!r} leaked: {text!r}"


def test_where_keeps_only_scheme_host_and_port() -> None:
    assert where(f"https://user:hunter2@hooks.example.com:8443{SECRET_PATH}?{SECRET_QUERY}#x") == (
        "https://hooks.example.com:8443"
    )
    assert where("https://hooks.slack.com" + SECRET_PATH) == "https://hooks.slack.com"
    assert where("not a url " + SECRET_PATH) == "an invalid URL"
    assert where("http://[::1" + SECRET_PATH) == "an invalid URL"


@pytest.mark.parametrize("statuses", [[500, 500, 500, 500], [404]], ids=["retries exhausted", "client error"])
def test_http_errors_print_the_host_and_status_only(
    webhook: tuple[str, list[dict[str, Any]], list[int]],
    statuses: list[int],
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, received, answers = webhook
    answers.extend(statuses)
    caplog.set_level("DEBUG")
    assert notify(f"{url.rstrip('/')}{SECRET_PATH}?{SECRET_QUERY}", {"text": "x"}) is False
    out, err = capfd.readouterr()
    _assert_no_secret(out, err, caplog.text)
    (warning,) = [
        line for line in err.splitlines() if line.startswith("warning:")
    ]  # other threads may write too
    assert warning.startswith("warning: webhook ") and "127.0.0.1" in warning and received == []
    assert ("HTTP 404" in err) if statuses == [404] else ("MaxRetryError (ResponseError)" in err)


def test_connection_errors_print_the_host_only(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    url = f"http://user:hunter2@127.0.0.1:{_closed_port()}{SECRET_PATH}?{SECRET_QUERY}"
    assert notify(url, {"text": "x"}) is False  # no exception escapes either
    out, err = capfd.readouterr()
    _assert_no_secret(out, err, caplog.text)
    assert "warning: webhook not notified: MaxRetryError (NewConnectionError) (http://127.0.0.1:" in err


def test_an_unparsable_url_is_not_echoed(capfd: pytest.CaptureFixture[str]) -> None:
    assert notify("http://[::1" + SECRET_PATH, {"text": "x"}) is False
    _, err = capfd.readouterr()
    _assert_no_secret(err)
    assert "(an invalid URL)" in err


def test_the_url_can_come_from_the_environment(
    webhook: tuple[str, list[dict[str, Any]], list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received, _ = webhook
    assert notify("", {"text": "none"}) is False
    monkeypatch.setenv("KFOPS_WEBHOOK_URL", url)
    assert notify("", {"text": "from the secret"}) is True
    assert received == [{"text": "from the secret"}]


def test_a_process_that_logs_at_warning_prints_no_secret() -> None:
    """As in watch.yml: a fresh interpreter, Python's last-resort log handler on stderr."""
    port = _closed_port()
    code = (
        "import logging, sys\n"
        "from components.shared.webhook import notify\n"
        "logging.basicConfig(level=logging.DEBUG)\n"
        f"url = 'http://127.0.0.1:{port}{SECRET_PATH}?{SECRET_QUERY}'\n"
        "sys.exit(0 if notify(url, {}) is False else 1)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    _assert_no_secret(result.stdout, result.stderr)
    assert "warning: webhook not notified" in result.stderr
