"""The continuous-training loop through the CLI, run locally with kfp.local (as a user would)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from components.shared.tables import read_parquet
from tests.conftest import copy_store, run_kfops, tree_digest

DRIFTED = "source=builtin://breast_cancer_drift?window=8"
UNDRIFTED = "source=builtin://breast_cancer_drift?window=0"
FIRE_AT_ONCE = ("--param", "windows_below=1", "--param", "window_count=1")


@pytest.fixture
def store(champion_store: Path, tmp_path: Path) -> Path:
    """This test's own copy of a store whose first trained model became champion (--promote)."""
    return copy_store(champion_store, tmp_path)


@pytest.fixture(scope="module")
def retrained(champion_store: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A store after drifted monitoring retrained and promoted a second champion, and what that
    monitoring run printed. Read-only: tests that go on from it copy it."""
    store = copy_store(champion_store, tmp_path_factory.mktemp("retrained"))
    code, out, err = _kfops(store, "run", "monitoring", "--param", DRIFTED, *FIRE_AT_ONCE)
    assert code == 0, err
    return store, out


def _kfops(store: Path, *args: str) -> tuple[int, str, str]:
    result = run_kfops(*args, "--store", str(store), env={"KFOPS_HOME": str(store.parent / ".kfops")})
    return result.returncode, result.stdout, result.stderr


def _triggers(store: Path) -> list[Path]:
    return sorted((store / "metrics/monitoring/breast-cancer/triggers").glob("*.json"))


def test_first_training_made_a_champion_and_inference_uses_it(store: Path) -> None:
    code, out, err = _kfops(store, "champion", "show", "breast-cancer")
    assert code == 0, err
    champion = json.loads(out)
    assert champion["reason"].startswith("first champion")
    assert champion["actor"] and champion["run_name"]  # who promoted, and from which run
    code, out, err = _kfops(store, "run", "inference")
    assert code == 0, err
    (predictions,) = (store / "predictions/breast-cancer" / champion["version"]).glob("*.parquet")
    # The summary says how many rows, with which model version, and where the predictions are.
    assert "(run ?)" not in out and "  rows     569 predicted" in out
    assert f"  model    breast-cancer version {champion['version']}" in out
    assert f"  output   {predictions}" in out
    frame, facts = read_parquet(str(predictions))
    assert len(frame) == 569 and facts["version"] == champion["version"]


def test_a_local_experiment_leaves_the_champion_unchanged_unless_promote(store: Path) -> None:
    pointer = store / "models/breast-cancer/champion.json"
    before = pointer.read_bytes()
    history_before = tree_digest(store / "models/breast-cancer/champion-history")
    code, out, err = _kfops(store, "run", "training", "--param", "seed=3")
    assert code == 0, err
    champion = json.loads(before)["version"]
    # The verdict is on the CLI, with the deciding metric, and the champion stays.
    assert f"against champion {champion}: NOT PROMOTED (champion kept; not asked to promote)" in out
    assert "accuracy candidate" in out and "champion 0." in out
    assert pointer.read_bytes() == before
    assert tree_digest(store / "models/breast-cancer/champion-history") == history_before


def test_monitoring_dry_run_writes_nothing_and_its_command_runs_as_printed(
    store: Path, tmp_path: Path
) -> None:
    home = tmp_path / ".kfops"
    args = ("run", "monitoring", "--param", DRIFTED, *FIRE_AT_ONCE, "--param", "cooldown_hours=0")
    before, home_before = tree_digest(store), tree_digest(home)
    for _ in range(2):  # two dry runs of one window: neither is counted
        result = run_kfops(*args, "--dry-run", "--store", str(store), env={"KFOPS_HOME": str(home)})
        assert result.returncode == 0, result.stderr
        assert "decision retrain: 1 of the last 1 windows below" in result.stdout
        assert tree_digest(store) == before and tree_digest(home) == home_before  # nothing written anywhere
    (line,) = [x for x in result.stdout.splitlines() if "dry run: would start a local training run: " in x]
    command = shlex.split(line.split("dry run: would start a local training run: ", 1)[1])
    assert command[:3] == ["kfops", "run", "training"] and "--promote" in command
    assert _triggers(store) == []
    ran = run_kfops(*command[1:], env={"KFOPS_HOME": str(home)})  # exactly as printed
    assert ran.returncode == 0, ran.stderr
    assert "Pipeline 'training' succeeded" in ran.stdout and "PROMOTED to champion" in ran.stdout


def test_monitoring_retrains_records_the_start_then_the_cooldown_holds(
    champion_store: Path, retrained: tuple[Path, str], tmp_path: Path
) -> None:
    runs_before = len(list((champion_store / "metrics/training/runs").glob("*.json")))
    store = copy_store(retrained[0], tmp_path)
    out = retrained[1]  # `kfops run monitoring` with DRIFTED, on the champion_store's copy
    assert "retraining: starting a local training run" in out and "Pipeline 'training' succeeded" in out
    # Seeded data: a model trained on the drifted window beats the old champion on the same examples.
    assert "PROMOTED to champion: no regression against the champion" in out
    (trigger,) = _triggers(store)
    record = json.loads(trigger.read_text())
    assert record["where"] == "local" and record["parameters"]["source"].endswith("window=8")
    assert len(list((store / "metrics/training/runs").glob("*.json"))) == runs_before + 1
    # The new champion (trained on drifted data) declines on undrifted data: the rule is met
    # at once, but the retraining just started holds it off for the default 72 h.
    code, out, err = _kfops(store, "run", "monitoring", "--param", UNDRIFTED, *FIRE_AT_ONCE)
    assert code == 0, err
    assert "but a retraining started recently; cooldown until" in out
    assert len(_triggers(store)) == 1


def test_champion_history_and_rollback(retrained: tuple[Path, str], tmp_path: Path) -> None:
    store = copy_store(retrained[0], tmp_path)
    code, out, _ = _kfops(store, "champion", "history", "breast-cancer")
    entries = json.loads(out)
    assert [e["action"] for e in entries] == ["promote", "promote"]  # first model, then the retrained one
    code, out, err = _kfops(store, "champion", "rollback", "breast-cancer")
    assert code == 0, err
    assert f"is now {entries[0]['version']}" in out
    code, out, _ = _kfops(store, "champion", "show", "breast-cancer")
    assert json.loads(out)["action"] == "rollback"


def test_monitoring_without_a_champion_fails_cleanly(tmp_path: Path) -> None:
    empty = tmp_path / "store"
    empty.mkdir()
    before = tree_digest(empty)
    code, out, err = _kfops(empty, "run", "monitoring")
    assert code == 2
    reason = f"model 'breast-cancer' has no champion in {empty}; run the training pipeline first"
    assert err.strip().splitlines() == [f"error: monitoring: {reason}"]
    assert "Traceback" not in out + err and tree_digest(empty) == before


def test_dry_run_is_refused_for_other_pipelines(tmp_path: Path) -> None:
    code, _, err = _kfops(tmp_path, "run", "training", "--dry-run")
    assert code == 2 and "error: --dry-run applies to the monitoring pipeline only" in err
