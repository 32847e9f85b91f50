"""The whole training pipeline, run for real with kfp.local through `kfops run`."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import pandas as pd
import pytest

from tests.conftest import REPO, run_kfops

DATASET = REPO / "components" / "ingest" / "data" / "breast_cancer.csv"


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("kfops-home")
    store = home / "store"
    store.mkdir()
    result = run_kfops(
        "run",
        "training",
        "--store",
        str(store),
        "--param",
        "seed=7",
        env={"KFOPS_HOME": str(home)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return store, result.stdout


def test_run_shows_progress_per_task_and_a_summary(local_run: tuple[Path, str]) -> None:
    _, out = local_run
    for task in ("ingest", "split", "preprocess", "train", "evaluate", "model-storage", "metrics-store"):
        assert f"{task}" in out and "ok" in out
    assert "[8/8] champion" in out
    assert "NOT PROMOTED (champion kept; not asked to promote): would be promoted (first champion" in out
    assert "succeeded" in out and "accuracy" in out and "model    breast-cancer version" in out


def test_run_leaves_a_model_version_and_a_metrics_record(local_run: tuple[Path, str]) -> None:
    store, _ = local_run
    versions = sorted(p.parent for p in (store / "models" / "breast-cancer").glob("*/model.joblib"))
    assert len(versions) == 1
    # A local experiment is challenged but never replaces the champion unless asked (--promote).
    assert not (store / "models" / "breast-cancer" / "champion.json").exists()
    assert not (store / "models" / "breast-cancer" / "champion-history").exists()
    metadata = json.loads((versions[0] / "metadata.json").read_text())
    assert metadata["parameters"]["seed"] == 7
    assert metadata["metrics"]["accuracy"] > 0.9  # the bundled dataset is easy for a linear model
    records = list((store / "metrics" / "training" / "runs").glob("*.json"))
    assert len(records) == 1
    record = json.loads(records[0].read_text())
    assert record["model_version"] == versions[0].name
    assert Path(record["evaluation_uri"]).is_file()
    assert record["test_fingerprint"].startswith("sha256:")


def test_stored_model_loads_and_predicts_from_plain_arrays(local_run: tuple[Path, str]) -> None:
    """What KServe's sklearn server does: joblib.load(model.joblib), predict on lists."""
    store, _ = local_run
    model_file = next((store / "models" / "breast-cancer").glob("*/model.joblib"))
    model = joblib.load(model_file)
    frame = pd.read_csv(DATASET)
    rows = frame.drop(columns=["target"]).head(5).to_numpy().tolist()
    assert len(model.predict(rows)) == 5


def test_metrics_list_and_show_read_the_record(local_run: tuple[Path, str]) -> None:
    store, _ = local_run
    listing = run_kfops("metrics", "list", "--store", str(store))
    assert listing.returncode == 0 and "training" in listing.stdout
    record = json.loads(run_kfops("metrics", "list", "--store", str(store), "--json").stdout)[0]
    header, row = listing.stdout.splitlines()
    assert header.split()[5:7] == ["model", "version"]  # after "created (UTC)", pipeline, "run id"
    assert f" breast-cancer    {record['model_version']} " in row
    shown = run_kfops("metrics", "show", record["run_id"], "--store", str(store))
    assert shown.returncode == 0
    assert json.loads(shown.stdout)["model_version"] == record["model_version"]


def test_run_against_an_s3_store_on_moto(tmp_path: Path, s3_bucket: str, aws_env: dict[str, str]) -> None:
    import boto3

    result = run_kfops(
        "run",
        "training",
        "--store",
        f"s3://{s3_bucket}/ml",
        env={**aws_env, "KFOPS_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert any(k.startswith("ml/models/breast-cancer/") and k.endswith("/model.joblib") for k in keys)
    assert any(k.startswith("ml/metrics/training/runs/") for k in keys)
    assert any(k.startswith("ml/metrics/training/evaluations/") for k in keys)
