"""Tests of `model_storage` with a local store: layout, metadata, immutability, listing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import pytest

from components.model_storage.core import new_version
from components.model_storage.io import StoredModel, list_versions, load_version_metadata, store_model
from components.shared.errors import InputError, ObjectExistsError, StoreError
from components.shared.models import check_model_name
from components.shared.tables import read_parquet

NOW = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, chain: Callable[..., dict[str, Path]]) -> dict[str, Path]:
    return chain(tmp_path_factory.mktemp("model-storage-chain"))


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    root.mkdir()
    return root


def _store(run: dict[str, Path], store: Path, name: str = "cancer", **kwargs: Any) -> StoredModel:
    return store_model(str(run["model"]), str(run["evaluation"]), str(store), name, **kwargs)


def test_store_model_writes_model_and_metadata_under_models_name_version(
    run: dict[str, Path], store: Path
) -> None:
    stored = store_model(
        str(run["model"]),
        str(run["evaluation"]),
        str(store),
        "cancer",
        run_id="run-0123456789abcdef",
        run_name="nightly",
        git_commit="abc1234",
        git_ref="main",
        now=NOW,
    )
    assert stored.version == "20240506-070809-89abcdef"
    folder = store / "models" / "cancer" / stored.version
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json", "model.joblib"]
    assert (folder / "model.joblib").read_bytes() == (run["model"] / "model.joblib").read_bytes()
    assert Path(stored.uri.rstrip("/")) == folder.resolve()

    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata == stored.metadata
    _, evaluation = read_parquet(str(run["evaluation"]))
    split = json.loads(run["split_info"].read_text())
    schema = json.loads(run["schema"].read_text())
    assert metadata["metrics"] == evaluation["metrics"] and "accuracy" in metadata["metrics"]
    assert metadata["data_fingerprint"] == schema["fingerprint"]
    assert metadata["test_fingerprint"] == split["test_fingerprint"]
    assert (metadata["git_commit"], metadata["git_ref"]) == ("abc1234", "main")
    assert (metadata["run_id"], metadata["run_name"]) == ("run-0123456789abcdef", "nightly")
    assert metadata["created_at"] == NOW.isoformat()
    assert metadata["parameters"] == {
        "source": "builtin://breast_cancer",
        "estimator": "logistic_regression",
        "hyperparameters": {},
        "seed": 42,
        "preprocessing": [
            "drop_duplicates",
            "drop_constant",
            "impute_median",
            "clip_outliers",
            "standard_scale",
        ],
        "test_size": 0.25,
        "stratify": True,
    }
    # The stored model is the trained model.
    assert type(joblib.load(folder / "model.joblib")).__name__ == "Pipeline"


def test_storing_the_same_version_again_is_refused_and_changes_nothing(
    run: dict[str, Path], store: Path, tmp_path: Path
) -> None:
    first = _store(run, store, version="v1", git_commit="first", now=NOW)
    folder = store / "models" / "cancer" / "v1"
    model_before = (folder / "model.joblib").read_bytes()
    metadata_before = (folder / "metadata.json").read_bytes()

    other_model = tmp_path / "other-model"
    shutil.copytree(run["model"], other_model)
    (other_model / "model.joblib").write_bytes(b"a different model")
    with pytest.raises(ObjectExistsError):
        store_model(
            str(other_model),
            str(run["evaluation"]),
            str(store),
            "cancer",
            version="v1",
            git_commit="second",
            now=NOW,
        )
    assert (folder / "model.joblib").read_bytes() == model_before
    assert (folder / "metadata.json").read_bytes() == metadata_before
    assert json.loads(metadata_before)["git_commit"] == "first" == first.metadata["git_commit"]
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".tmp-")]


def test_same_time_and_run_id_give_the_same_version_which_is_refused(
    run: dict[str, Path], store: Path
) -> None:
    _store(run, store, run_id="abc", now=NOW)
    with pytest.raises(ObjectExistsError):
        _store(run, store, run_id="abc", now=NOW)
    assert len(list_versions(str(store), "cancer")) == 1


@pytest.mark.parametrize(
    "name", ["Cancer", "-cancer", "cancer-", "can_cer", "can.cer", "a/b", "", "x" * 64, "..", "café"]
)
def test_invalid_model_names_are_rejected(name: str, run: dict[str, Path], store: Path) -> None:
    with pytest.raises(InputError, match="invalid model name"):
        _store(run, store, name=name, now=NOW)
    assert not (store / "models").exists()


@pytest.mark.parametrize("name", ["a", "7", "cancer-v2", "x" * 63])
def test_valid_model_names_are_accepted(name: str) -> None:
    assert check_model_name(name) == name


def test_new_version_sorts_by_time_and_ends_with_the_run_id() -> None:
    assert new_version(NOW, "Run_ID-ABCDEF123456") == "20240506-070809-ef123456"
    assert new_version(NOW, "") == "20240506-070809-local"
    assert new_version(datetime(2024, 5, 6, 7, 8, 10, tzinfo=UTC), "a") > new_version(NOW, "z")


def test_list_versions_returns_complete_versions_oldest_first(run: dict[str, Path], store: Path) -> None:
    later = datetime(2024, 6, 1, tzinfo=UTC)
    _store(run, store, run_id="second", now=later)
    _store(run, store, run_id="first", now=NOW)
    # An interrupted store: the model is there but its metadata was never written.
    incomplete = store / "models" / "cancer" / "20240701-000000-partial"
    incomplete.mkdir(parents=True)
    (incomplete / "model.joblib").write_bytes((run["model"] / "model.joblib").read_bytes())
    # Another model's versions are not listed.
    _store(run, store, name="other", run_id="x", now=NOW)

    versions = list_versions(str(store), "cancer")
    assert [v["version"] for v in versions] == ["20240506-070809-first", "20240601-000000-second"]
    assert all(v["model_name"] == "cancer" for v in versions)


def test_list_versions_of_unknown_model_is_empty(store: Path) -> None:
    assert list_versions(str(store), "nothing") == []


def test_load_version_metadata_of_incomplete_version_is_an_error(run: dict[str, Path], store: Path) -> None:
    stored = _store(run, store, version="v1", now=NOW)
    assert load_version_metadata(str(store), "cancer", "v1") == stored.metadata
    (store / "models" / "cancer" / "v2").mkdir()
    (store / "models" / "cancer" / "v2" / "model.joblib").write_bytes(b"x")
    with pytest.raises(StoreError, match="'v2'"):
        load_version_metadata(str(store), "cancer", "v2")


def test_store_model_needs_an_existing_store(run: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        _store(run, tmp_path / "absent", now=NOW)
