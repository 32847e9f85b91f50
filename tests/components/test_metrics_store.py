"""Tests of `metrics_store` with a local store: appending, listing, selecting, immutability."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from components.metrics_store.core import record_key, select_record
from components.metrics_store.io import append_record, list_records, show_record
from components.shared.errors import InputError, ObjectExistsError, StoreError
from components.shared.tables import read_parquet

T0 = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, chain: Callable[..., dict[str, Path]]) -> dict[str, Path]:
    return chain(tmp_path_factory.mktemp("metrics-store-chain"))


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    root.mkdir()
    return root


def _append(run: dict[str, Path], store: Path, **kwargs: Any) -> dict[str, Any]:
    return append_record(str(run["evaluation"]), str(store), "training", **kwargs)


def test_append_twice_lists_two_records_oldest_first_with_existing_evaluations(
    run: dict[str, Path], store: Path
) -> None:
    # Appended newest first, so the listing order has to come from the records' times.
    newer = _append(run, store, run_id="run-bbb", run_name="second", now=T0 + timedelta(hours=1))
    older = _append(run, store, run_id="run-aaa", run_name="first", now=T0)
    records = list_records(str(store))
    assert [r["run_id"] for r in records] == ["run-aaa", "run-bbb"]
    assert records[0] == older and records[1] == newer
    original = run["evaluation"].read_bytes()
    for record in records:
        evaluation = Path(record["evaluation_uri"])
        assert evaluation.is_file()
        assert evaluation.is_relative_to(store.resolve())
        assert evaluation.read_bytes() == original
        assert Path(record["record_uri"]).is_file()
    assert records[0]["evaluation_uri"] != records[1]["evaluation_uri"]


def test_record_carries_metrics_fingerprints_and_parameters(run: dict[str, Path], store: Path) -> None:
    record = _append(
        run,
        store,
        run_id="r1",
        run_name="n1",
        git_ref="main",
        git_commit="abc",
        model_name="cancer",
        model_version="v1",
        model_uri="/m/v1/",
        now=T0,
    )
    _, facts = read_parquet(str(run["evaluation"]))
    split = json.loads(run["split_info"].read_text())
    assert record["pipeline"] == "training"
    assert record["metrics"] == facts["metrics"]
    assert record["test_fingerprint"] == split["test_fingerprint"]
    assert record["data_fingerprint"] == json.loads(run["schema"].read_text())["fingerprint"]
    assert record["test_rows"] == split["test_rows"]
    assert record["parameters"]["estimator"] == "logistic_regression"
    assert record["parameters"]["seed"] == 42
    assert (record["model_name"], record["model_version"], record["model_uri"]) == ("cancer", "v1", "/m/v1/")
    assert record["created_at"] == T0.isoformat()
    stored = json.loads(Path(record["record_uri"]).read_text())
    assert stored == {k: v for k, v in record.items() if k != "record_uri"}
    # Stored under metrics/<pipeline>/runs/, named by time then run id.
    assert Path(record["record_uri"]) == (store / record_key("training", T0, "r1")).resolve()
    assert Path(record["record_uri"]).name == "20240506T070809123456Z-r1.json"


def test_show_record_by_run_id_by_name_and_by_unique_prefix(run: dict[str, Path], store: Path) -> None:
    _append(run, store, run_id="alpha-123", run_name="nightly-1", now=T0)
    _append(run, store, run_id="beta-456", run_name="nightly-2", now=T0 + timedelta(minutes=1))
    assert show_record(str(store), "beta-456")["run_id"] == "beta-456"
    assert show_record(str(store), "alp")["run_id"] == "alpha-123"
    assert show_record(str(store), "nightly-2")["run_id"] == "beta-456"
    assert show_record(str(store), "alpha-123", pipeline="training")["run_name"] == "nightly-1"


def test_show_record_with_ambiguous_prefix_is_an_input_error(run: dict[str, Path], store: Path) -> None:
    _append(run, store, run_id="alpha-123", run_name="nightly-1", now=T0)
    _append(run, store, run_id="beta-456", run_name="nightly-2", now=T0 + timedelta(minutes=1))
    with pytest.raises(InputError, match="2 run records match 'nightly'"):
        show_record(str(store), "nightly")


def test_show_record_without_match_is_an_input_error(run: dict[str, Path], store: Path) -> None:
    _append(run, store, run_id="alpha-123", now=T0)
    with pytest.raises(InputError, match="no run record matches 'gamma'"):
        show_record(str(store), "gamma")


def test_exact_match_wins_over_prefix_match() -> None:
    records = [{"run_id": "run-1", "run_name": ""}, {"run_id": "run-10", "run_name": ""}]
    assert select_record(records, "run-1") is records[0]
    with pytest.raises(InputError):
        select_record(records, "run-")


def test_appending_same_time_and_run_id_twice_is_refused_and_keeps_the_first(
    run: dict[str, Path], store: Path
) -> None:
    first = _append(run, store, run_id="dup", git_commit="first-commit", now=T0)
    record_bytes = Path(first["record_uri"]).read_bytes()
    with pytest.raises(ObjectExistsError):
        _append(run, store, run_id="dup", git_commit="second-commit", now=T0)
    assert Path(first["record_uri"]).read_bytes() == record_bytes
    records = list_records(str(store))
    assert len(records) == 1 and records[0]["git_commit"] == "first-commit"


def test_list_records_filters_by_pipeline_and_ignores_other_files(run: dict[str, Path], store: Path) -> None:
    _append(run, store, run_id="t1", now=T0)
    append_record(str(run["evaluation"]), str(store), "scoring", run_id="s1", now=T0)
    (store / "metrics" / "training" / "runs" / "notes.txt").write_text("not a record")
    assert [r["run_id"] for r in list_records(str(store), "training")] == ["t1"]
    assert [r["run_id"] for r in list_records(str(store), "scoring")] == ["s1"]
    assert sorted(r["run_id"] for r in list_records(str(store))) == ["s1", "t1"]


def test_list_records_of_empty_store_is_empty(store: Path) -> None:
    assert list_records(str(store)) == []


def test_malformed_record_is_an_input_error(run: dict[str, Path], store: Path) -> None:
    record = _append(run, store, run_id="ok", now=T0)
    Path(record["record_uri"]).with_name("20240101T000000000000Z-bad.json").write_text("{not json")
    with pytest.raises(InputError, match="malformed run record"):
        list_records(str(store))


@pytest.mark.parametrize("pipeline", ["Training", "", "a/b", "-x"])
def test_invalid_pipeline_name_is_rejected(run: dict[str, Path], store: Path, pipeline: str) -> None:
    with pytest.raises(InputError, match="invalid pipeline name"):
        append_record(str(run["evaluation"]), str(store), pipeline, run_id="r", now=T0)
    assert not (store / "metrics").exists()


def test_append_needs_an_existing_store(run: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        _append(run, tmp_path / "absent", run_id="r", now=T0)
