"""Batch predict: the champion (or a named version) scores a batch; predictions carry their lineage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from components.batch_predict.core import PREDICTION, ROW, predict_batch
from components.batch_predict.io import run_batch_predict
from components.champion.io import run_champion
from components.model_storage.io import store_model
from components.shared.artifacts import load_model_dir
from components.shared.errors import InputError
from components.shared.tables import read_parquet
from tests.conftest import tree_digest

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path, chain: Callable[..., dict[str, Path]]) -> str:
    paths = chain(tmp_path / "run")
    root = tmp_path / "store"
    root.mkdir()
    store_model(str(paths["model"]), str(paths["evaluation"]), str(root), "m", version="v1", now=T0)
    return str(root)


def test_predicts_every_row_with_scores_and_keeps_ids(store: str) -> None:
    model, metadata = load_model_dir(f"{store}/models/m/v1")
    frame = pd.read_csv(Path(__file__).parents[2] / "components/ingest/data/breast_cancer.csv").head(20)
    frame.insert(0, "id", [f"case-{i}" for i in range(20)])
    out = predict_batch(model, frame.drop(columns="target").iloc[:, ::-1], metadata)  # column order is free
    assert list(out.columns) == [ROW, "id", PREDICTION, "score_0", "score_1"]
    assert out["id"].tolist() == frame["id"].tolist()
    assert (out[["score_0", "score_1"]].sum(axis=1).round(9) == 1).all()
    assert (out[PREDICTION].astype(int) == frame["target"]).mean() > 0.9


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.iloc[0:0], "no rows"),
        (lambda f: f.drop(columns="mean_area"), "lacks feature column 'mean_area'"),
        (lambda f: f.assign(mean_area="big"), "'mean_area' is numeric but row 1 holds 'big'"),
    ],
)
def test_bad_batches_are_named(
    store: str, change: Callable[[pd.DataFrame], pd.DataFrame], message: str
) -> None:
    model, metadata = load_model_dir(f"{store}/models/m/v1")
    frame = pd.read_csv(Path(__file__).parents[2] / "components/ingest/data/breast_cancer.csv").head(5)
    with pytest.raises(InputError, match=message):
        predict_batch(model, change(frame), metadata)


def test_writes_predictions_with_model_version_and_input_fingerprint(store: str) -> None:
    result = run_batch_predict(store, "m:v1", "builtin://breast_cancer", run_id="run-1", now=T0)
    frame, facts = read_parquet(result.uri)
    assert result.uri.endswith("/predictions/m/v1/20260101T000000000000Z-run-1.parquet")
    assert len(frame) == 569 and facts["version"] == "v1" and facts["rows"] == 569
    assert facts["input_fingerprint"].startswith("sha256:") and facts["source"] == "builtin://breast_cancer"
    assert sum(facts["predicted"].values()) == 569


def test_the_champion_is_the_default_and_missing_ones_are_clear(store: str, tmp_path: Path) -> None:
    before = tree_digest(Path(store))
    with pytest.raises(InputError, match="has no champion"):
        run_batch_predict(store, "m", "builtin://breast_cancer")
    with pytest.raises(InputError, match="has no version 'v9'"):
        run_batch_predict(store, "m:v9", "builtin://breast_cancer")
    with pytest.raises(InputError, match="invalid model name"):
        run_batch_predict(store, "Bad_Name", "builtin://breast_cancer")
    assert tree_digest(Path(store)) == before
    run = tmp_path / "run"
    run_champion(store, "m", "v1", str(run / "evaluation.parquet"), str(run / "test.parquet"), now=T0)
    assert run_batch_predict(store, "m", "builtin://breast_cancer").facts["version"] == "v1"
