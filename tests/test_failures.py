"""`kfops notify-failures`: each newly failed run reaches the webhook once; undelivered ones wait."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kfops.failures import notify_failures as notify_in
from tests.conftest import run_kfops
from tests.kfp_fake import State

TOKEN = "good-token"
NS = "team-ml"
NOW = datetime.now(UTC)


@pytest.fixture
def server(kfp_server: tuple[str, State]) -> Iterator[tuple[str, State]]:
    yield kfp_server


def notify_failures(host: str, token: str, url: str, store: str, *, now: datetime) -> dict[str, Any]:
    """The profile namespace's failures (a multi-user server lists runs per namespace)."""
    return notify_in(host, token, url, store, namespace=NS, now=now)


def _run(
    state: State, run_id: str, status: str, age_hours: float, recurring: str = "", ran_hours: float = 0.0
) -> None:
    ended = NOW - timedelta(hours=age_hours - ran_hours)
    state.runs[run_id] = {
        "run_id": run_id,
        "display_name": f"training-{run_id}",
        "state": status,
        "created_at": (NOW - timedelta(hours=age_hours)).isoformat().replace("+00:00", "Z"),
        "finished_at": ended.isoformat().replace("+00:00", "Z") if status != "RUNNING" else None,
        "recurring_run_id": recurring,
        "error": {"message": "task train failed"} if status == "FAILED" else None,
        "namespace": NS,
    }


def test_each_failure_is_notified_once_oldest_first(
    server: tuple[str, State], webhook: tuple[str, list[dict[str, Any]], list[int]], tmp_path: Path
) -> None:
    host, state = server
    url, received, _ = webhook
    _run(state, "old", "FAILED", 30)  # before the first look-back window
    _run(state, "a", "FAILED", 3, recurring="r1")
    _run(state, "ok", "SUCCEEDED", 2)
    _run(state, "b", "FAILED", 1)
    first = notify_failures(host, TOKEN, url, str(tmp_path), now=NOW)
    assert first["notified"] == ["a", "b"] and first["pending"] == []
    assert [m["run_id"] for m in received] == ["a", "b"]
    assert "recurring run r1" in received[0]["text"] and "task train failed" in received[0]["text"]
    assert notify_failures(host, TOKEN, url, str(tmp_path), now=NOW)["notified"] == []
    _run(state, "c", "FAILED", 0)
    assert notify_failures(host, TOKEN, url, str(tmp_path), now=NOW)["notified"] == ["c"]
    assert len(received) == 3


def test_a_long_run_that_fails_after_a_later_one_is_still_reported(
    server: tuple[str, State], webhook: tuple[str, list[dict[str, Any]], list[int]], tmp_path: Path
) -> None:
    """The watermark follows end times: a run created first but failing last is not skipped."""
    host, state = server
    url, received, _ = webhook
    _run(state, "long", "RUNNING", 3)
    _run(state, "short", "FAILED", 1)
    assert notify_failures(host, TOKEN, url, str(tmp_path), now=NOW)["notified"] == ["short"]
    _run(state, "long", "FAILED", 3, ran_hours=2.9)  # created 3 h ago, failed 6 min ago
    assert notify_failures(host, TOKEN, url, str(tmp_path), now=NOW)["notified"] == ["long"]
    assert [m["run_id"] for m in received] == ["short", "long"]


def test_an_undelivered_failure_is_retried_next_time(
    server: tuple[str, State], webhook: tuple[str, list[dict[str, Any]], list[int]], tmp_path: Path
) -> None:
    host, state = server
    url, received, statuses = webhook
    _run(state, "a", "FAILED", 2)
    _run(state, "b", "FAILED", 1)
    statuses.extend([200, 400])  # a is delivered, b is refused
    outcome = notify_failures(host, TOKEN, url, str(tmp_path), now=NOW)
    assert outcome["notified"] == ["a"] and outcome["pending"] == ["b"]
    again = notify_failures(host, TOKEN, url, str(tmp_path), now=NOW)
    assert again["notified"] == ["b"] and [m["run_id"] for m in received] == ["a", "b"]


def test_cli_needs_a_webhook_and_exits_1_while_failures_are_pending(
    server: tuple[str, State], webhook: tuple[str, list[dict[str, Any]], list[int]], tmp_path: Path
) -> None:
    host, state = server
    url, _, statuses = webhook
    token = tmp_path / "token"
    token.write_text(TOKEN)
    args = (
        "notify-failures",
        "--host",
        host,
        "--namespace",
        NS,
        "--token-file",
        str(token),
        "--store",
        str(tmp_path),
    )
    missing = run_kfops(*args, env={"KFOPS_WEBHOOK_URL": ""})
    assert missing.returncode == 2 and "error: no webhook" in missing.stderr
    _run(state, "a", "FAILED", 1)
    statuses.extend([400])
    pending = run_kfops(*args, "--webhook-url", url)
    assert pending.returncode == 1 and "0 failed run(s) notified; 1 pending" in pending.stdout
    delivered = run_kfops(*args, env={"KFOPS_WEBHOOK_URL": url})
    assert delivered.returncode == 0 and "1 failed run(s) notified; 0 pending" in delivered.stdout
