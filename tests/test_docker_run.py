"""`kfops run --runner docker`: the tasks in the real images (kfp.local's DockerRunner).

Needs a Docker engine and the images built under their content-hash tags
(`kfops images build`); the e2e workflow runs it before it creates the kind cluster.
Without an engine the run test skips and says why; the refusals are tested here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kfops.docker_run import docker_problem, missing_images, pipeline_images
from kfops.registry import load_pipeline
from tests.conftest import run_kfops

PROBLEM = docker_problem()


def test_a_local_store_outside_the_mounted_root_is_refused(tmp_path: Path) -> None:
    """DockerRunner mounts only the pipeline root (KFOPS_HOME): the store must be inside it."""
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_kfops(
        "run", "training", "--runner", "docker", "--store", str(elsewhere), env={"KFOPS_HOME": str(home)}
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "with --runner docker a local store must lie under" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not PROBLEM, reason="a Docker engine answers here")
def test_without_a_docker_engine_the_run_says_why(tmp_path: Path) -> None:
    result = run_kfops("run", "training", "--runner", "docker", env={"KFOPS_HOME": str(tmp_path)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("error: --runner docker needs a Docker engine: ")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(bool(PROBLEM), reason=f"needs a Docker engine: {PROBLEM}")
def test_training_runs_in_the_real_images(tmp_path: Path) -> None:
    missing = missing_images(pipeline_images(load_pipeline("training")))
    if missing:
        pytest.skip(f"images not built here (kfops images build): {', '.join(missing)}")
    result = run_kfops(
        "run", "training", "--runner", "docker", env={"KFOPS_HOME": str(tmp_path)}, timeout=900
    )
    assert result.returncode == 0, result.stdout + result.stderr
    record = json.loads(
        next((tmp_path / "store" / "metrics" / "training" / "runs").glob("*.json")).read_text()
    )
    assert Path(record["evaluation_uri"]).is_file()
    assert next((tmp_path / "store" / "models").glob("*/*/model.joblib")).stat().st_size > 0
