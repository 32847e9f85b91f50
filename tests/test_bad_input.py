"""Every bad input gets one line naming the problem, exit code 2, and no store change."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import KFOPS, REPO, bound_by_file_modes, run_kfops, tree_digest


def _csv(tmp_path: Path, text: str) -> str:
    path = tmp_path / "data.csv"
    path.write_text(text)
    return str(path)


def _rows(n: int, label: callable = lambda i: i % 2) -> str:  # type: ignore[valid-type]
    return "".join(f"{i},{(i * 7) % 5},{label(i)}\n" for i in range(n))


CASES = {
    "missing file": (lambda t: ["--param", f"source={t / 'absent.csv'}"], "does not exist"),
    "unreadable csv": (
        lambda t: ["--param", "source=" + _csv(t, "a,b,target\n1,2\n3,4,5,6\n")],
        "not a readable CSV",
    ),
    "missing label column": (
        lambda t: ["--param", "source=" + _csv(t, "a,b,y\n" + _rows(20))],
        "label column 'target' not found",
    ),
    "all-NaN feature": (
        lambda t: [
            "--param",
            "source=" + _csv(t, "a,b,empty,target\n" + "".join(f"{i},{i % 3},,{i % 2}\n" for i in range(20))),
        ],
        "feature 'empty' has no values",
    ),
    "every feature constant": (
        lambda t: [
            "--param",
            "source=" + _csv(t, "a,b,target\n" + "".join(f"3,5,{i % 2}\n" for i in range(20))),
        ],
        "every numeric feature is constant in the training rows (a, b)",
    ),
    "single class in the training split": (
        lambda t: [
            "--param",
            "source=" + _csv(t, "a,b,target\n" + _rows(11, lambda i: int(i == 10))),
            "--param",
            "test_size=0.9",
        ],
        "training split has a single class",
    ),
    "unknown estimator": (lambda t: ["--param", "estimator=svm"], "unknown estimator 'svm'"),
    "unknown preprocessing step": (
        lambda t: ["--param", "preprocessing=impute_median,whiten"],
        "unknown preprocessing step 'whiten'; valid steps: drop_duplicates",
    ),
    "malformed --param": (lambda t: ["--param", "seed"], "malformed --param 'seed'"),
    "wrongly typed --param": (lambda t: ["--param", "seed=abc"], "expected integer"),
    "unknown --param": (lambda t: ["--param", "colour=red"], "unknown parameter 'colour'"),
    "bad hyperparameters JSON": (lambda t: ["--param", "hyperparameters={C: 1}"], "not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_exit_2_and_store_untouched(
    case: str, champion_store: Path, tmp_path: Path
) -> None:
    make_args, expected = CASES[case]
    before = tree_digest(champion_store)
    result = run_kfops(
        "run",
        "training",
        "--store",
        str(champion_store),
        *make_args(tmp_path),
        env={"KFOPS_HOME": str(tmp_path)},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert expected in lines[0]
    assert tree_digest(champion_store) == before


def test_missing_store_is_rejected(tmp_path: Path) -> None:
    result = run_kfops(
        "run", "training", "--store", str(tmp_path / "nowhere"), env={"KFOPS_HOME": str(tmp_path)}
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: store root {tmp_path / 'nowhere'} does not exist"
    assert not (tmp_path / "nowhere").exists()


def test_unwritable_store_is_rejected(tmp_path: Path) -> None:
    blocker = tmp_path / "team-store"
    blocker.write_text("a file where the store should be")
    result = run_kfops("run", "training", "--store", str(blocker), env={"KFOPS_HOME": str(tmp_path)})
    assert result.returncode == 2
    assert "is not a directory" in result.stderr and "Traceback" not in result.stderr
    assert blocker.read_text() == "a file where the store should be"


def test_read_only_store_directory_is_rejected(tmp_path: Path) -> None:
    """A store directory the user may not write: one line, exit 2, nothing written, no run started.
    Bound by the mode bits also as root (`bound_by_file_modes`), as CI runs."""
    store = tmp_path / "team-store"
    store.mkdir()
    (store / "kept.json").write_text("{}")
    store.chmod(0o500)
    before = tree_digest(store)
    try:
        result = subprocess.run(
            bound_by_file_modes([*KFOPS, "run", "training", "--store", str(store)]),
            capture_output=True,
            text=True,
            timeout=300,
            cwd=REPO,
            env={**os.environ, "KFOPS_HOME": str(tmp_path / "home")},
        )
    finally:
        store.chmod(0o700)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [f"error: store {store} is not writable: Permission denied"]
    assert "Running pipeline" not in result.stdout
    assert tree_digest(store) == before and sorted(p.name for p in store.iterdir()) == ["kept.json"]


def test_unreachable_s3_bucket_is_rejected(tmp_path: Path, aws_env: dict[str, str]) -> None:
    result = run_kfops(
        "run",
        "training",
        "--store",
        "s3://kfops-no-such-bucket",
        env={**aws_env, "KFOPS_HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "error: bucket 'kfops-no-such-bucket' does not exist"


def test_unknown_pipeline_and_metrics_run_are_usage_errors(tmp_path: Path) -> None:
    result = run_kfops("run", "nope", env={"KFOPS_HOME": str(tmp_path)})
    assert result.returncode == 2 and "unknown pipeline 'nope'" in result.stderr
    store = tmp_path / "store"
    store.mkdir()
    shown = run_kfops("metrics", "show", "abc", "--store", str(store))
    assert shown.returncode == 2 and shown.stderr.strip() == "error: no run record matches 'abc'"
