"""Retrain trigger: starts the deployed training pipeline through the real kfp.Client, records, notifies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.monitoring.core import MONITORING_PREFIX
from components.retrain_trigger.core import notification, training_parameters
from components.retrain_trigger.io import TriggerError, run_trigger
from components.shared.errors import InputError
from components.shared.webhook import notify
from tests.conftest import tree_digest
from tests.kfp_fake import State

TOKEN = "good-token"  # the projected ServiceAccount token the fake's gateway accepts
NS = "team-ml"
WINDOW = {
    "model_name": "m",
    "as_of": "2026-01-06T06:00:00+00:00",
    "source": "builtin://breast_cancer_drift?window=5",
    "champion_version": "v1",
    "value": 0.9,
    "decision": {"retrain": True, "reason": "retrain: 2 of the last 3 windows below (need 2 of 3)"},
}
NIGHTLY = {"name": "training-nightly", "pipeline": "training", "cron": "0 0 2 * * *"}


@pytest.fixture
def token_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN)
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(path))
    return path


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two releases of the training pipeline (the second's spec differs)."""
    from kfops.compile import compile_pipelines

    (training,) = (p for p in compile_pipelines(tmp_path_factory.mktemp("all")) if p.stem == "training")
    folders = []
    for index in range(2):
        folder = tmp_path_factory.mktemp(f"release{index}")
        (folder / "training.yaml").write_text(training.read_text() + f"\n# release {index}\n")
        folders.append(folder)
    return folders


@pytest.fixture
def deployed(
    kfp_server: tuple[str, State], releases: list[Path], tmp_path: Path
) -> tuple[str, State, list[str]]:
    """Both releases deployed with kfops deploy (a schedule on each); the version ids, oldest first."""
    from kfops.deploy import deploy

    host, state = kfp_server
    schedules = tmp_path / "schedules.yaml"
    schedules.write_text(yaml.safe_dump({"schedules": [NIGHTLY]}))
    ids = []
    for folder in releases:
        result = deploy(host, TOKEN, folder, namespace=NS, schedules_file=schedules)
        ids.append(result.versions["training"][1])
    return host, state, ids


def _start(host: str, store: str) -> dict[str, Any] | None:
    """Trigger for WINDOW with no extra parameters, in the profile namespace the pipeline lives in."""
    return run_trigger(
        json.dumps(WINDOW), host=host, namespace=NS, pipeline="training", parameters={}, store_uri=store
    )


def _triggers(store: Path) -> list[Path]:
    return sorted((store / MONITORING_PREFIX / "m" / "triggers").glob("*.json"))


def _started(state: State) -> list[dict[str, Any]]:
    """Runs started by hand (not by a schedule's tick)."""
    return [r for r in state.runs.values() if not r.get("recurring_run_id")]


def test_follows_the_version_the_managed_schedule_uses(
    deployed: tuple[str, State, list[str]], tmp_path: Path, token_file: Path
) -> None:
    """After a rollback the schedule points at the older version; retraining must use that one."""
    from kfops.rollback import rollback

    host, state, (old, new) = deployed
    schedules = tmp_path / "schedules.yaml"
    assert rollback(host, TOKEN, "training", schedules, namespace=NS)["to"].startswith("training-")
    store = tmp_path / "store"
    store.mkdir()
    _start(host, str(store))
    (run,) = _started(state)
    assert run["pipeline_version_reference"]["pipeline_version_id"] == old != new


def test_a_stalled_api_times_out(
    deployed: tuple[str, State, list[str]], tmp_path: Path, token_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from components.kfp_api import RetryPolicy, client

    monkeypatch.setattr(client, "DEFAULT_POLICY", RetryPolicy(read_timeout=0.5, backoff=0.01, attempts=2))
    host, state, _ = deployed
    state.delay, state.slow_paths = 5.0, ("/apis/v2beta1/pipelines",)  # the health check answers
    started = time.monotonic()
    with pytest.raises(TriggerError, match="no answer from"):
        _start(host, str(tmp_path))
    assert time.monotonic() - started < 10  # kfp.Client alone would wait forever
    assert _triggers(tmp_path) == [] and _started(state) == []


def test_a_rejected_request_names_the_servers_reason(
    deployed: tuple[str, State, list[str]], tmp_path: Path, token_file: Path
) -> None:
    host, state, _ = deployed
    state.fail_paths = {"/apis/v2beta1/runs": 400}
    with pytest.raises(InputError, match=r"rejected the training run: .*HTTP 400"):
        _start(host, str(tmp_path))
    assert _triggers(tmp_path) == []


def test_training_parameters_default_to_the_window_and_extra_wins() -> None:
    params = training_parameters(
        '{"seed": 7, "source": "s3://b/x.csv"}', store="s3://b", model_name="m", source="w"
    )
    assert params == {
        "store": "s3://b",
        "model_name": "m",
        "source": "s3://b/x.csv",
        "promote": True,  # a retraining may replace the champion
        "seed": 7,
    }
    assert (
        training_parameters('{"promote": false}', store="s", model_name="m", source="w")["promote"] is False
    )
    with pytest.raises(InputError, match="JSON object"):
        training_parameters("[1]", store="s", model_name="m", source="w")


def test_without_a_schedule_it_starts_the_newest_version_with_the_mounted_token_then_records(
    deployed: tuple[str, State, list[str]], tmp_path: Path, token_file: Path
) -> None:
    host, state, (_, newest) = deployed
    for run_id in list(state.recurring):  # no schedule to follow
        state.recurring.pop(run_id)
    store = tmp_path / "store"
    store.mkdir()
    params = {"store": str(store), "model_name": "m", "source": WINDOW["source"]}
    record = run_trigger(
        json.dumps(WINDOW),
        host=host,
        namespace=NS,
        pipeline="training",
        parameters=params,
        store_uri=str(store),
    )
    (run,) = _started(state)
    assert run["pipeline_version_reference"]["pipeline_version_id"] == newest
    assert run["runtime_config"]["parameters"] == params
    assert (
        record is not None and record["run_id"] == run["run_id"] and record["started_at"] == WINDOW["as_of"]
    )
    (path,) = _triggers(store)
    assert json.loads(path.read_text()) == record
    token_headers = {r.headers.get("authorization") or r.headers.get("Authorization") for r in state.log}
    assert token_headers == {f"Bearer {TOKEN}"}  # every request carried the mounted token


def test_the_token_file_is_read_again_for_each_request(
    deployed: tuple[str, State, list[str]], tmp_path: Path, token_file: Path
) -> None:
    """A projected token rotates: the trigger must not keep the first one it read."""
    host, state, _ = deployed
    rotated = "rotated-token"
    state.users[rotated] = state.users[TOKEN]
    del state.users[TOKEN]
    token_file.write_text(rotated)
    store = tmp_path / "store"
    store.mkdir()
    assert _start(host, str(store)) is not None


@pytest.mark.parametrize("status", [401, 403, 503])
def test_a_refused_trigger_fails_clearly_and_starts_no_cooldown(
    deployed: tuple[str, State, list[str]], tmp_path: Path, token_file: Path, status: int
) -> None:
    host, state, _ = deployed
    store = tmp_path / "store"
    store.mkdir()
    state.faults = [status] * 20
    with pytest.raises(TriggerError, match=f"HTTP {status}"):  # within seconds
        _start(host, str(store))
    assert _triggers(store) == [] and _started(state) == []


def test_an_undeployed_pipeline_is_named(
    kfp_server: tuple[str, State], tmp_path: Path, token_file: Path
) -> None:
    host, _ = kfp_server
    with pytest.raises(InputError, match="'training' is not deployed at"):
        _start(host, str(tmp_path))
    assert _triggers(tmp_path) == []  # no cooldown; the window's claim says the start failed
    (claim,) = (tmp_path / MONITORING_PREFIX / "m" / "claims").glob("*.json")
    assert json.loads(claim.read_text()) == {"state": "failed"}


def test_one_window_starts_one_run_and_a_failed_start_can_be_retried(
    deployed: tuple[str, State, list[str]], tmp_path: Path, token_file: Path
) -> None:
    host, state, _ = deployed
    store = tmp_path / "store"
    store.mkdir()
    state.faults = [503] * 20
    with pytest.raises(TriggerError):
        _start(host, str(store))
    state.faults = []
    assert _start(host, str(store)) is not None  # the failed claim is taken again
    assert _start(host, str(store)) is None  # a second monitoring run of the same window
    assert len(_started(state)) == 1 and len(_triggers(store)) == 1


def test_a_lost_answer_to_the_run_start_starts_one_run(
    deployed: tuple[str, State, list[str]], tmp_path: Path, token_file: Path
) -> None:
    host, state, _ = deployed
    store = tmp_path / "store"
    store.mkdir()
    state.drop_after_commit = ["/apis/v2beta1/runs"]
    record = _start(host, str(store))
    (run,) = _started(state)
    assert record is not None and record["run_id"] == run["run_id"]


def test_without_the_pod_default_token_it_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KF_PIPELINES_SA_TOKEN_PATH", str(tmp_path / "absent"))
    with pytest.raises(TriggerError, match="access-ml-pipeline=true"):
        _start("http://127.0.0.1:9", str(tmp_path))


def test_an_unreachable_api_fails_within_bounds(tmp_path: Path, token_file: Path) -> None:
    with pytest.raises(TriggerError, match=r"no answer from http://127\.0\.0\.1:9"):
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
