"""--baseline / --candidate name a predictions file, a run record, or a run id (as `metrics show`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.shared.errors import InputError
from kfops.gate.config import load_config
from kfops.gate.inputs import resolve_input
from kfops.gate.report import render_markdown
from kfops.gate.run import run_gate


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Two run records of model ``cancer``, each pointing at its predictions file."""
    root = tmp_path / "store"
    runs = root / "metrics" / "training" / "runs"
    runs.mkdir(parents=True)
    truth = [0, 1] * 50
    for number, (run_id, wrong) in enumerate((("run-aaaa1111", 0), ("run-bbbb2222", 5))):
        predictions = tmp_path / f"{run_id}.csv"
        rows = [f"{i},{t},{1 - t if i < wrong else t}" for i, t in enumerate(truth)]
        predictions.write_text("id,y_true,y_pred\n" + "\n".join(rows) + "\n")
        record = {
            "run_id": run_id,
            "run_name": f"training-{run_id}",
            "created_at": f"2026-01-0{number + 1}T00:00:00",
            "model_name": "cancer",
            "model_version": f"v{number + 1}",
            "evaluation_uri": str(predictions),
        }
        (runs / f"{run_id}.json").write_text(json.dumps(record))
    return root


def test_a_run_id_a_run_record_and_a_file_name_the_same_predictions(store: Path, tmp_path: Path) -> None:
    by_id = resolve_input("run-aaaa", str(store), "training")  # a unique prefix, as `metrics show` takes
    saved = tmp_path / "record.json"  # `kfops metrics show RUN > record.json`
    saved.write_text((store / "metrics/training/runs/run-aaaa1111.json").read_text())
    by_record = resolve_input(str(saved), str(store), "training")
    by_file = resolve_input(str(tmp_path / "run-aaaa1111.csv"), str(store), "training")
    assert by_id == by_record == by_file
    assert by_id is not None and by_id[1]["model_version"] == "v1" and by_id[1]["model_name"] == "cancer"


def test_unknown_and_ambiguous_runs_are_named(store: Path) -> None:
    with pytest.raises(InputError, match="neither a predictions file, a run record"):
        resolve_input("nope", str(store), "training")
    with pytest.raises(InputError, match="matches 2 runs"):
        resolve_input("run-", str(store), "training")
    assert resolve_input("main", str(store), "training", allow_branch=True) is None  # a branch


def test_the_report_headers_name_model_and_version(store: Path) -> None:
    outcome = run_gate(
        baseline_spec="run-aaaa1111",
        candidate_uri="training-run-bbbb2222",
        config=load_config(None),
        store=str(store),
    )
    markdown = render_markdown(outcome)
    assert "**Baseline:** run `training-run-aaaa1111` (cancer v1)" in markdown
    assert "**Candidate:** run `training-run-bbbb2222` (cancer v2)" in markdown
