"""`kfops run --isolated`: each task with only what its image holds (kfops/isolated.py).

The three pipelines run once each in this mode (training, monitoring with the rule
firing so the trigger task runs too, inference). The image environments are cached
per content hash in the repository's `.kfops/images` (shared by every test and every
run of the suite), so only a changed image is rebuilt.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from components.images import image
from kfops import isolated
from tests.conftest import REPO, run_kfops
from tests.isolation_probe import PROBED, probe

ENVS = REPO / ".kfops" / "images"
pytestmark = pytest.mark.filterwarnings("ignore:.*custom or non-Python base image:RuntimeWarning")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    home = tmp_path_factory.mktemp("kfops-isolated")
    env = {"KFOPS_HOME": str(home), isolated.ENVS_ENV: str(ENVS)}
    done = {}
    done["training"] = run_kfops("run", "training", "--isolated", "--promote", "--param", "seed=7", env=env)
    assert done["training"].returncode == 0, done["training"].stdout + done["training"].stderr
    done["monitoring"] = run_kfops(
        "run",
        "monitoring",
        "--isolated",
        # not --dry-run: a dry run scores the window in this process and runs no task
        "--param",
        "source=builtin://breast_cancer_drift?window=6",
        "--param",
        "windows_below=1",
        "--param",
        "window_count=1",
        "--param",
        "cooldown_hours=0",
        env=env,
    )
    done["inference"] = run_kfops("run", "inference", "--isolated", env=env)
    return done


def test_training_passes_with_each_task_in_its_image_environment(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    out = runs["training"].stdout
    assert "each task with only its image's environment: 8 image(s)" in out
    for task in ("ingest", "split", "preprocess", "train", "evaluate", "model-storage", "metrics-store"):
        assert f"] {task} " in out
    assert "[8/8] champion         ok" in out and "succeeded" in out


def test_monitoring_passes_and_the_rule_fires_so_the_trigger_task_runs(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    result = runs["monitoring"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[1/2] monitoring       ok" in result.stdout
    assert "[2/2] retrain-trigger  ok" in result.stdout
    assert (
        "decision retrain" in result.stdout and "retraining: starting a local training run" in result.stdout
    )


def test_inference_passes(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = runs["inference"]
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[1/1] batch-predict    ok" in result.stdout


def _probe(tmp_path: Path, *, isolate: bool) -> dict:  # type: ignore[type-arg]
    from kfp import local

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(tmp_path / "runs"))
    if not isolate:
        return json.loads(probe().output)
    prepared = isolated.prepare(probe, tmp_path)
    with isolated.isolated_tasks(prepared.envs):
        return {**json.loads(probe().output), "env": str(prepared.envs["probe"].root)}


def test_a_task_cannot_import_what_only_the_project_environment_has(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(isolated.ENVS_ENV, str(ENVS))
    seen = _probe(tmp_path, isolate=True)
    assert Path(seen["prefix"]) == Path(seen["env"]) / "venv"
    assert set(seen["found"]) == set(PROBED)
    assert seen["found"] == {
        "sklearn": False,  # in the project's .venv, not in the model_storage image
        "pulumi": False,
        "kfops": False,  # the CLI never enters an image
        "components.train.core": False,  # another component's code is not copied
        "components.model_storage.io": True,
        "pyarrow": True,
    }
    project = (str(Path(sys.prefix).resolve()), str(REPO / "components"))
    assert not [p for p in seen["path"] if p.startswith(project) or p in ("", str(REPO))]


def test_negative_control_the_same_probe_sees_everything_in_a_plain_run(tmp_path: Path) -> None:
    seen = _probe(tmp_path, isolate=False)
    assert seen["found"]["sklearn"] and seen["found"]["kfops"] and seen["found"]["components.train.core"]


def test_the_guard_refuses_a_task_whose_path_reaches_the_project_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(isolated.ENVS_ENV, str(ENVS))
    env, _ = isolated.ensure_env("model_storage", ENVS)
    site = next(p for p in sys.path if p.endswith("site-packages"))
    result = subprocess.run(
        [str(env.python), "-P", "-s", str(isolated.GUARD), "-m", "kfp.dsl.executor_main"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "KFOPS_IMAGE_ENV": str(env.root),
            "PYTHONPATH": f"{env.app}{os.pathsep}{site}",
            "KFOPS_FORBIDDEN_PATHS": sys.prefix,
        },
    )
    assert result.returncode == isolated.GUARD_EXIT, result.stderr
    assert "sys.path reaches outside the image" in result.stderr
    assert "(the project's own environment)" in result.stderr


def test_the_shim_refuses_a_task_function_of_no_known_image(tmp_path: Path) -> None:
    shim = isolated.write_shim({}, tmp_path)
    result = subprocess.run(
        [str(shim), "-m", "kfp.dsl.executor_main", "--function_to_execute", "stranger"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == isolated.GUARD_EXIT
    assert "no image is known for task function 'stranger'" in result.stderr


def test_environments_are_cached_per_content_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = isolated.ensure_env("split", ENVS)
    again, built = isolated.ensure_env("split", ENVS)
    assert again == first and not built
    assert first.root.name == isolated.env_key("split")
    assert first.root.name.startswith("split-" + image("split").rsplit(":c-", 1)[1])
    held = {p.relative_to(first.app).as_posix() for p in first.app.rglob("*") if p.is_file()}
    assert "components/split/io.py" in held and not any(h.startswith("components/train/") for h in held)


def test_environments_of_older_hashes_are_pruned(tmp_path: Path) -> None:
    keep = tmp_path / isolated.env_key("split")
    old = [tmp_path / f"split-{n:016x}-py3110" for n in range(3)]
    for age, path in enumerate(old):
        (path / "venv").mkdir(parents=True)
        os.utime(path, (1000 + age, 1000 + age))
    (tmp_path / "split_other-0000000000000000-py3110").mkdir()  # another component: untouched
    keep.mkdir()
    assert isolated.prune_stale("split", tmp_path, keep) == [old[1], old[0]]
    assert old[2].is_dir() and keep.is_dir() and (tmp_path / "split_other-0000000000000000-py3110").is_dir()
