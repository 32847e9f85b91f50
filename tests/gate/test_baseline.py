"""Baseline pointers: promote, find and list, on a local store and on S3 (moto)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from components.shared.errors import InputError
from components.shared.store import open_store
from kfops.gate.baseline import find_baseline, list_baselines, pointer_key, promote

FP_1 = "sha256:" + "1" * 64
FP_2 = "sha256:" + "2" * 64
T1 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
T2 = datetime(2024, 5, 2, 12, 0, 0, tzinfo=UTC)


def record(run_id: str, fingerprint: str = FP_1, accuracy: float = 0.9) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "run_name": f"name-{run_id}",
        "record_uri": f"/records/{run_id}.json",
        "evaluation_uri": f"/evaluations/{run_id}.parquet",
        "test_fingerprint": fingerprint,
        "metrics": {"accuracy": accuracy},
        "model_version": "3",
        "git_commit": "abc123",
    }


def history_keys(store_uri: str, pipeline: str = "training") -> list[str]:
    return [k for k in open_store(store_uri).list(f"metrics/{pipeline}/baselines") if "/history/" in k]


@pytest.fixture
def local_store(tmp_path: Path) -> str:
    root = tmp_path / "store"
    root.mkdir()
    return str(root)


@pytest.fixture
def s3_store(s3_bucket: str) -> str:
    return f"s3://{s3_bucket}/prefix"


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_store"))


def test_promote_writes_pointer_and_history_entry(store: str) -> None:
    pointer = promote(store, "training", "main", record("r1"), actor="alice", now=T1)
    assert pointer["run_id"] == "r1" and pointer["branch"] == "main" and pointer["pipeline"] == "training"
    assert pointer["test_fingerprint"] == FP_1
    assert pointer["evaluation_uri"] == "/evaluations/r1.parquet"
    assert pointer["metrics"] == {"accuracy": 0.9}
    assert pointer["promoted_by"] == "alice" and pointer["promoted_at"] == T1.isoformat()
    backend = open_store(store)
    key = pointer_key("training", "main", FP_1)
    assert key == "metrics/training/baselines/main/sha256-" + "1" * 64 + ".json"
    assert json.loads(backend.read(key)) == pointer
    history = history_keys(store)
    assert history == [key.removesuffix(".json") + "/history/20240501T120000000000Z.json"]
    assert json.loads(backend.read(history[0])) == pointer


def test_promoting_again_moves_pointer_and_history_keeps_both(store: str) -> None:
    promote(store, "training", "main", record("r1"), now=T1)
    promote(store, "training", "main", record("r2", accuracy=0.95), now=T2)
    found = find_baseline(store, "training", "main", FP_1)
    assert found is not None and found["run_id"] == "r2"
    assert [p["run_id"] for p in list_baselines(store, "training", "main")] == ["r2"]
    backend = open_store(store)
    history = history_keys(store)
    assert len(history) == 2
    assert [json.loads(backend.read(k))["run_id"] for k in history] == ["r1", "r2"]


def test_branch_names_with_slashes_work(store: str) -> None:
    promote(store, "training", "feature/new-model", record("f1"), now=T1)
    promote(store, "training", "feature", record("plain"), now=T1)
    found = find_baseline(store, "training", "feature/new-model", FP_1)
    assert found is not None and found["run_id"] == "f1"
    assert find_baseline(store, "training", "feature/new-model", None)["run_id"] == "f1"  # type: ignore[index]
    assert [p["run_id"] for p in list_baselines(store, "training", "feature/new-model")] == ["f1"]
    assert [p["run_id"] for p in list_baselines(store, "training", "feature")] == ["plain"]
    assert sorted(p["branch"] for p in list_baselines(store, "training")) == ["feature", "feature/new-model"]


def test_find_by_fingerprint_picks_the_matching_evaluation_set(store: str) -> None:
    promote(store, "training", "main", record("r1", FP_1), now=T1)
    promote(store, "training", "main", record("r2", FP_2), now=T1)
    assert find_baseline(store, "training", "main", FP_1)["run_id"] == "r1"  # type: ignore[index]
    assert find_baseline(store, "training", "main", FP_2)["run_id"] == "r2"  # type: ignore[index]
    assert find_baseline(store, "training", "main", "sha256:" + "3" * 64) is None
    assert find_baseline(store, "training", "develop", FP_1) is None
    assert find_baseline(store, "other", "main", FP_1) is None


def test_find_without_fingerprint_uses_the_only_pointer(store: str) -> None:
    assert find_baseline(store, "training", "main", None) is None
    promote(store, "training", "main", record("r1"), now=T1)
    promote(store, "training", "main", record("r2"), now=T2)  # same set: still one pointer
    found = find_baseline(store, "training", "main", None)
    assert found is not None and found["run_id"] == "r2"


def test_find_without_fingerprint_with_two_pointers_is_ambiguous(store: str) -> None:
    promote(store, "training", "main", record("r1", FP_1), now=T1)
    promote(store, "training", "main", record("r2", FP_2), now=T1)
    with pytest.raises(InputError, match="2 evaluation sets"):
        find_baseline(store, "training", "main", None)


def test_record_without_fingerprint_cannot_be_promoted(store: str) -> None:
    bad = record("r1")
    del bad["test_fingerprint"]
    with pytest.raises(InputError, match="test fingerprint"):
        promote(store, "training", "main", bad, now=T1)
    no_eval = record("r2")
    no_eval["evaluation_uri"] = ""
    with pytest.raises(InputError):
        promote(store, "training", "main", no_eval, now=T1)
    assert list_baselines(store, "training") == []


def test_empty_branch_and_bad_pipeline_are_refused(local_store: str) -> None:
    with pytest.raises(InputError, match="branch"):
        promote(local_store, "training", "", record("r1"), now=T1)
    with pytest.raises(InputError, match="pipeline"):
        promote(local_store, "../escape", "main", record("r1"), now=T1)


def test_list_baselines_of_all_branches_sorted_by_branch(local_store: str) -> None:
    for branch in ("release", "main", "dev/x"):
        promote(local_store, "training", branch, record(branch.replace("/", "-")), now=T1)
    assert [p["branch"] for p in list_baselines(local_store, "training")] == ["dev/x", "main", "release"]
    assert list_baselines(local_store, "other") == []
