"""`kfops gate` on real evaluation records from the training pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import copy_store, run_kfops

WEAK = ["--param", 'hyperparameters={"C": 1e-05}']  # so regularised it predicts the majority class


def _train(home: Path, *params: str) -> dict[str, object]:
    result = run_kfops(
        "run", "training", "--store", str(home / "store"), *params, env={"KFOPS_HOME": str(home)}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    records = json.loads(run_kfops("metrics", "list", "--json", "--store", str(home / "store")).stdout)
    return records[-1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    home = tmp_path_factory.mktemp("gate-home")
    (home / "store").mkdir()
    good = _train(home)
    weak = _train(home, *WEAK)
    other_split = _train(home, "--param", "seed=7")
    promoted = run_kfops("baseline", "promote", "--run", str(good["run_id"]), "--store", str(home / "store"))
    assert promoted.returncode == 0, promoted.stderr
    return {"home": home, "good": good, "weak": weak, "other_split": other_split}


@pytest.fixture(scope="module")
def gated_run(runs: dict[str, object]) -> tuple[int, str, str, Path]:
    """`kfops gate --run training --baseline main` once (it trains): exit code, output, report dir.

    It adds a run record to the module's store but moves no pointer."""
    return _gate(runs, "--run", "training", "--baseline", "main")


def _gate(runs: dict[str, object], *args: str) -> tuple[int, str, str, Path]:
    home = runs["home"]
    assert isinstance(home, Path)
    report = home / f"report-{len(list(home.glob('report-*')))}"
    result = run_kfops(
        "gate",
        *args,
        "--store",
        str(home / "store"),
        "--report-dir",
        str(report),
        env={"KFOPS_HOME": str(home)},
    )
    return result.returncode, result.stdout, result.stderr, report


def test_weakened_model_fails_the_gate(runs: dict[str, object]) -> None:
    code, out, err, report = _gate(
        runs, "--baseline", "main", "--candidate", str(runs["weak"]["evaluation_uri"])
    )
    assert code == 1, out + err
    assert "FAIL" in out and "regression" in out
    verdict = json.loads((report / "gate.json").read_text())
    assert verdict["verdict"] == "fail"
    accuracy = next(m for m in verdict["metrics"] if m["metric"] == "accuracy")
    assert accuracy["failed"] and accuracy["decision"]["delta"] < -0.1
    assert (report / "gate.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_model_passes_the_gate(runs: dict[str, object]) -> None:
    code, out, err, _ = _gate(runs, "--baseline", "main", "--candidate", str(runs["good"]["evaluation_uri"]))
    assert code == 0, out + err
    assert "PASS" in out and "+0.0000" in out


def test_records_on_different_evaluation_sets_are_an_error(runs: dict[str, object]) -> None:
    code, _out, err, _ = _gate(
        runs,
        "--baseline",
        str(runs["good"]["evaluation_uri"]),
        "--candidate",
        str(runs["other_split"]["evaluation_uri"]),
    )
    assert code == 2
    assert err.strip().startswith("error: evaluation sets differ: test-set fingerprint")
    assert "Traceback" not in err


def test_a_new_evaluation_set_has_no_baseline_and_passes_with_a_warning(runs: dict[str, object]) -> None:
    code, out, _, report = _gate(
        runs, "--baseline", "main", "--candidate", str(runs["other_split"]["evaluation_uri"])
    )
    assert code == 0 and "No baseline" in out
    assert json.loads((report / "gate.json").read_text())["verdict"] == "no-baseline"


def test_gate_run_trains_then_compares_with_the_stored_baseline(
    gated_run: tuple[int, str, str, Path],
) -> None:
    code, out, err, _ = gated_run
    assert code == 0, out + err
    assert "Pipeline 'training' succeeded" in out and "baseline of `main`" in out and "PASS" in out


def test_baseline_show_prints_the_promoted_run_first(runs: dict[str, object]) -> None:
    home = runs["home"]
    assert isinstance(home, Path)
    shown = run_kfops("baseline", "show", "--store", str(home / "store"))
    pointers = json.loads(shown.stdout)
    assert [p["run_id"] for p in pointers] == [runs["good"]["run_id"]]
    assert pointers[0]["branch"] == "main"


def test_promote_from_a_passing_report_moves_the_pointer_and_refuses_a_failing_one(
    runs: dict[str, object], gated_run: tuple[int, str, str, Path], tmp_path: Path
) -> None:
    home = runs["home"]
    assert isinstance(home, Path)
    store = str(copy_store(home / "store", tmp_path))  # moving the pointer is this test's own business
    code, out, err, report = gated_run
    assert code == 0, out + err
    candidate = json.loads((report / "gate.json").read_text())["candidate"]["run_id"]
    moved = run_kfops("baseline", "promote", "--from-report", str(report / "gate.json"), "--store", store)
    assert moved.returncode == 0, moved.stderr
    pointers = json.loads(run_kfops("baseline", "show", "--store", store).stdout)
    assert [p["run_id"] for p in pointers] == [candidate]

    code, _, _, failing = _gate(
        runs, "--baseline", "main", "--candidate", str(runs["weak"]["evaluation_uri"])
    )
    assert code == 1
    refused = run_kfops("baseline", "promote", "--from-report", str(failing / "gate.json"), "--store", store)
    assert refused.returncode == 2 and "failing verdict" in refused.stderr
    assert [p["run_id"] for p in json.loads(run_kfops("baseline", "show", "--store", store).stdout)] == [
        candidate
    ]
