"""Retrain trigger: starts the deployed training pipeline through the real kfp.Client, records, notifies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.monitoring.core import MONITORING_PREFIX
from components.retrain_trigger.core import notification, training_parameters
from components.retrain_trigger.io import TriggerError, run_trigger
from components.shared.errors import InputError
from components.shared.webhook import notify
from tests.conftest import tree_digest
from tests.kfp_fake import State, serve

TOKEN = "projected-sa-token"
WINDOW = {
    "model_name": "m",
    "as_of": "2026-01-06T06:00:00+00:00",
    "source": "builtin://breast_cancer_drift?window=5",
    "champion_version": "v1",
    "value": 0.9,
    "decision": {"retrain": True, "reason": "retrain: 2 of the last 3 windows below (need 2 of 3)"},
}


@pytest.fixture
def token_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN)
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(path))
    return path


def _deployed(state: State) -> None:
    state.pipelines["p1"] = {"pipeline_id": "p1", "display_name": "training", "namespace": "team-a"}
    state.versions["p1"] = [
        {"pipeline_id": "p1", "pipeline_version_id": "old", "display_name": "training-aaa"},
        {"pipeline_id": "p1", "pipeline_version_id": "new", "display_name": "training-bbb"},
    ]


def _start(host: str, store: str) -> dict[str, Any] | None:
    """Trigger for WINDOW with no extra parameters, in the profile namespace the pipeline lives in."""
    return run_trigger(
        json.dumps(WINDOW), host=host, namespace="team-a", pipeline="training", parameters={}, store_uri=store
    )


def _triggers(store: Path) -> list[Path]:
    return sorted((store / MONITORING_PREFIX / "m" / "triggers").glob("*.json"))


def test_follows_the_version_the_managed_schedule_uses(tmp_path: Path, token_file: Path) -> None:
    """After a rollback the schedule points at an older version; retraining must use that one."""
    store = tmp_path / "store"
    store.mkdir()
    with serve(State(token=TOKEN)) as (host, state):
        _deployed(state)
        state.recurring["r1"] = {
            "recurring_run_id": "r1",
            "display_name": "kfops:training-weekly",
            "description": json.dumps({"pipeline": "training", "fingerprint": "x"}),
            "pipeline_version_reference": {"pipeline_id": "p1", "pipeline_version_id": "old"},
            "mode": "ENABLE",
        }
        _start(host, str(store))
    (run,) = state.runs.values()
    assert run["pipeline_version_reference"]["pipeline_version_id"] == "old"


def test_a_stalled_api_times_out(tmp_path: Path, token_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from components.retrain_trigger import io as trigger_io

    monkeypatch.setattr(trigger_io, "TIMEOUT_SECONDS", 0.5)
    state = State(token=TOKEN, delay=5.0, slow_paths=("/apis/v2beta1/pipelines",))  # health check answers
    with serve(state) as (host, _):
        _deployed(state)
        started = time.monotonic()
        with pytest.raises(TriggerError, match="cannot reach the KFP API"):
            _start(host, str(tmp_path))
        assert time.monotonic() - started < 10  # kfp.Client alone would wait forever
    assert _triggers(tmp_path) == []


def test_a_rejected_request_names_the_servers_reason(tmp_path: Path, token_file: Path) -> None:
    with serve(State(token=TOKEN, fail_paths={"/apis/v2beta1/runs": 400})) as (host, state):
        _deployed(state)
        with pytest.raises(InputError, match=r"rejected the training run: HTTP 400: .*injected"):
            _start(host, str(tmp_path))
    assert _triggers(tmp_path) == []


def test_training_parameters_default_to_the_window_and_extra_wins() -> None:
    params = training_parameters(
        '{"seed": 7, "source": "s3://b/x.csv"}', store="s3://b", model_name="m", source="w"
    )
    assert params == {"store": "s3://b", "model_name": "m", "source": "s3://b/x.csv", "seed": 7}
    with pytest.raises(InputError, match="JSON object"):
        training_parameters("[1]", store="s", model_name="m", source="w")


def test_starts_the_newest_training_version_with_the_mounted_token_then_records(
    tmp_path: Path, token_file: Path
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    with serve(State(token=TOKEN)) as (host, state):
        _deployed(state)
        params = {"store": str(store), "model_name": "m", "source": WINDOW["source"]}
        record = run_trigger(
            json.dumps(WINDOW),
            host=host,
            namespace="team-a",
            pipeline="training",
            parameters=params,
            store_uri=str(store),
        )
    (run,) = state.runs.values()
    assert run["pipeline_version_reference"] == {"pipeline_id": "p1", "pipeline_version_id": "new"}
    assert run["runtime_config"]["parameters"] == params
    assert (
        record is not None and record["run_id"] == run["run_id"] and record["started_at"] == WINDOW["as_of"]
    )
    (path,) = _triggers(store)
    assert json.loads(path.read_text()) == record


@pytest.mark.parametrize("status", [401, 403, 503])
def test_a_refused_trigger_fails_clearly_and_starts_no_cooldown(
    tmp_path: Path, token_file: Path, status: int
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    with serve(State(token=TOKEN)) as (host, state):
        _deployed(state)
        state.faults = [status] * 20
        with pytest.raises(TriggerError, match=f"refused to start training: HTTP {status}"):  # within seconds
            _start(host, str(store))
    assert _triggers(store) == [] and state.runs == {}


def test_an_undeployed_pipeline_is_named(tmp_path: Path, token_file: Path) -> None:
    with (
        serve(State(token=TOKEN)) as (host, _),
        pytest.raises(InputError, match="'training' is not deployed at"),
    ):
        _start(host, str(tmp_path))
    assert _triggers(tmp_path) == []  # no cooldown; the window's claim says the start failed
    (claim,) = (tmp_path / MONITORING_PREFIX / "m" / "claims").glob("*.json")
    assert json.loads(claim.read_text()) == {"state": "failed"}


def test_one_window_starts_one_run_and_a_failed_start_can_be_retried(
    tmp_path: Path, token_file: Path
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    with serve(State(token=TOKEN)) as (host, state):
        _deployed(state)
        state.faults = [503] * 20
        with pytest.raises(TriggerError):
            _start(host, str(store))
        state.faults = []
        assert _start(host, str(store)) is not None  # the failed claim is taken again
        assert _start(host, str(store)) is None  # a second monitoring run of the same window
    assert len(state.runs) == 1 and len(_triggers(store)) == 1


def test_without_the_pod_default_token_it_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(tmp_path / "absent"))
    with pytest.raises(TriggerError, match="access-ml-pipeline=true"):
        _start("http://127.0.0.1:9", str(tmp_path))


def test_an_unreachable_api_fails_within_bounds(tmp_path: Path, token_file: Path) -> None:
    with pytest.raises(TriggerError, match="cannot reach the KFP API"):
        _start("http://127.0.0.1:9", str(tmp_path))


def test_local_mode_starts_nothing(tmp_path: Path) -> None:
    assert _start("", str(tmp_path)) is None
    assert tree_digest(tmp_path) == {}


def test_the_webhook_is_notified_and_retried(webhook: tuple[str, list[dict[str, Any]], list[int]]) -> None:
    url, received, statuses = webhook
    statuses.extend([503])  # one transient failure, then success
    record = {**WINDOW, "where": "local", "run_id": "r1", "reason": WINDOW["decision"]["reason"]}  # type: ignore[index]
    assert notify(url, notification(record)) is True
    (payload,) = received
    assert payload["event"] == "retraining_started" and "retraining of m started" in payload["text"]


def test_a_failing_webhook_only_warns(
    webhook: tuple[str, list[dict[str, Any]], list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, received, statuses = webhook
    statuses.extend([400])
    assert notify(url, {"text": "x"}) is False
    assert "webhook answered HTTP 400" in capsys.readouterr().err and received == []
    assert notify("", {"text": "x"}) is False  # no webhook configured
