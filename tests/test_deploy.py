"""`kfops deploy` against a stateful local KFP v2beta1 server, with the real kfp.Client."""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kfops import deploy as deploy_module
from kfops.compile import compile_pipelines
from kfops.deploy import DeployError, deploy, version_name
from tests.conftest import fresh_ecr_repositories, run_kfops
from tests.kfp_fake import State, serve

TOKEN = "good-token"


@pytest.fixture(scope="module")
def all_compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_pipelines(tmp_path_factory.mktemp("compiled"))[0].parent


@pytest.fixture(scope="module")
def compiled(all_compiled: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Only the training pipeline, so request counts below are per pipeline."""
    folder = tmp_path_factory.mktemp("training-only")
    shutil.copy(all_compiled / "training.yaml", folder)
    return folder


def test_deploying_every_pipeline_twice(server: tuple[str, State], all_compiled: Path) -> None:
    """Three pipelines: three uploads, then none; monitoring's pod label travels as its platform spec."""
    host, state = server
    started = time.monotonic()
    first = deploy(host, TOKEN, all_compiled)
    first_seconds = time.monotonic() - started
    assert sorted(label.split("@")[0] for label in first.uploaded) == ["inference", "monitoring", "training"]
    assert state.uploads() == 3
    monitoring_id = next(p for p, v in state.pipelines.items() if v["display_name"] == "monitoring")
    (version,) = state.versions[monitoring_id]
    labels = version["pipeline_spec"]["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"][
        "executors"
    ]
    assert labels["exec-retrain-trigger"]["podMetadata"]["labels"] == {"access-ml-pipeline": "true"}
    assert version["pipeline_spec"]["pipeline_spec"]["pipelineInfo"]["name"] == "monitoring"
    before = len(state.log)
    second = deploy(host, TOKEN, all_compiled)
    assert second.uploaded == [] and len(second.unchanged) == 3 and state.uploads() == 3
    print(f"first deploy {before} requests {first_seconds:.2f} s; second {len(state.log) - before} requests")


@pytest.fixture
def server() -> Iterator[tuple[str, State]]:
    with serve(State(token=TOKEN)) as (host, state):
        yield host, state


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deploy_module, "BACKOFF_SECONDS", 0.01)


def test_first_deploy_creates_each_pipeline_with_its_named_version(
    server: tuple[str, State], compiled: Path, tmp_path: Path
) -> None:
    host, state = server
    (tmp_path / "store").mkdir()
    result = deploy(host, TOKEN, compiled, namespace="team-ml", store=str(tmp_path / "store"), commit="abc")
    expected = version_name("training", (compiled / "training.yaml").read_bytes())
    assert result.uploaded == [f"training@{expected}"] and result.unchanged == []
    (pipeline,) = state.pipelines.values()
    assert pipeline["display_name"] == "training" and pipeline["namespace"] == "team-ml"
    (version,) = state.versions[pipeline["pipeline_id"]]
    assert version["display_name"] == expected  # no unnamed default version
    assert json.loads(version["description"])["commit"] == "abc"
    assert version["pipeline_spec"]["pipelineInfo"]["name"] == "training"
    assert state.uploads() == 1
    audit = json.loads(Path(result.audit_uri).read_text())
    assert audit["uploaded"] == result.uploaded and audit["commit"] == "abc"


def test_second_deploy_of_the_same_commit_uploads_nothing(server: tuple[str, State], compiled: Path) -> None:
    host, state = server
    deploy(host, TOKEN, compiled)
    first_requests = len(state.log)
    result = deploy(host, TOKEN, compiled)
    assert result.uploaded == [] and len(result.unchanged) == 1
    assert state.uploads() == 1
    # version check, kfp.Client's own health check, find pipeline, find version
    assert len(state.log) - first_requests == 4


def test_a_changed_pipeline_adds_exactly_one_version(
    server: tuple[str, State], compiled: Path, tmp_path: Path
) -> None:
    host, state = server
    deploy(host, TOKEN, compiled)
    changed = tmp_path / "changed"
    shutil.copytree(compiled, changed)
    (changed / "training.yaml").write_text((compiled / "training.yaml").read_text() + "\n# changed\n")
    result = deploy(host, TOKEN, changed)
    assert len(result.uploaded) == 1 and len(state.pipelines) == 1
    (versions,) = state.versions.values()
    assert len(versions) == 2 and versions[0]["display_name"] != versions[1]["display_name"]


def test_transient_503s_are_retried(server: tuple[str, State], compiled: Path) -> None:
    host, state = server
    state.faults = [503, 503]
    result = deploy(host, TOKEN, compiled)
    assert len(result.uploaded) == 1


def test_persistent_503_fails_clearly_after_bounded_retries(
    server: tuple[str, State], compiled: Path
) -> None:
    host, state = server
    state.faults = [503] * 50
    with pytest.raises(DeployError, match=r"HTTP 503 after 5 attempts"):
        deploy(host, TOKEN, compiled)
    assert len(state.log) == deploy_module.ATTEMPTS


def test_a_silent_server_times_out(
    server: tuple[str, State], compiled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host, state = server
    state.delay = 2.0
    monkeypatch.setattr(deploy_module, "TIMEOUT", (1.0, 0.3))
    monkeypatch.setattr(deploy_module, "ATTEMPTS", 2)
    started = time.monotonic()
    with pytest.raises(DeployError, match="after 2 attempts"):
        deploy(host, TOKEN, compiled)
    assert time.monotonic() - started < 10


def test_a_silent_api_behind_a_healthy_server_times_out(
    server: tuple[str, State], compiled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timeout kfops imposes on kfp.Client's own requests (it sets none)."""
    host, state = server
    state.delay, state.slow_paths = 2.0, ("/apis/v2beta1/pipelines",)
    monkeypatch.setattr(deploy_module, "TIMEOUT", (1.0, 0.3))
    monkeypatch.setattr(deploy_module, "ATTEMPTS", 2)
    started = time.monotonic()
    with pytest.raises(DeployError, match=r"cannot find pipeline training: .*after 2 attempts"):
        deploy(host, TOKEN, compiled)
    assert time.monotonic() - started < 10


def test_a_bad_token_fails_at_once_saying_what_to_check(server: tuple[str, State], compiled: Path) -> None:
    host, state = server
    started = time.monotonic()
    with pytest.raises(
        DeployError, match=r"refused the token \(401\).*kubeflow-pipelines-edit in namespace team"
    ):
        deploy(host, "expired", compiled, namespace="team")
    assert time.monotonic() - started < 5
    assert state.uploads() == 0


def test_an_unsupported_server_version_is_refused(server: tuple[str, State], compiled: Path) -> None:
    host, state = server
    state.server_version = "1.8.5"
    with pytest.raises(DeployError, match=r"KFP backend 1\.8\.5 is not supported"):
        deploy(host, TOKEN, compiled)


def test_an_interrupted_upload_converges(server: tuple[str, State], compiled: Path) -> None:
    """The create succeeded but its reply was lost (the retry sees 409): still one version, no error."""
    host, state = server
    deploy(host, TOKEN, compiled)
    changed = compiled.parent / "interrupted"
    shutil.copytree(compiled, changed, dirs_exist_ok=True)
    (changed / "training.yaml").write_text((compiled / "training.yaml").read_text() + "\n# v2\n")
    deploy(host, TOKEN, changed)
    (versions,) = state.versions.values()
    versions.pop()  # forget the version, then replay with the server saying "exists"
    state.faults = []
    result = deploy(host, TOKEN, changed)
    assert len(result.uploaded) == 1
    again = deploy(host, TOKEN, changed)
    assert again.uploaded == []


def test_cli_deploy_twice_with_a_token_file(server: tuple[str, State], tmp_path: Path) -> None:
    host, state = server
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    (tmp_path / "store").mkdir()
    args = (
        "deploy",
        "--host",
        host,
        "--namespace",
        "team-ml",
        "--token-file",
        str(token),
        "--pipelines-dir",
        str(tmp_path / "build"),
        "--store",
        str(tmp_path / "store"),
    )
    first = run_kfops(*args)
    assert first.returncode == 0, first.stderr
    assert "3 uploaded, 0 unchanged" in first.stdout  # compiled on the way: training, inference, monitoring
    second = run_kfops(*args)
    assert second.returncode == 0 and "0 uploaded, 3 unchanged" in second.stdout
    assert state.uploads() == 3
    assert len(list((tmp_path / "store" / "metrics" / "deploys").glob("*.json"))) == 2


def test_cli_without_a_token_is_a_usage_error(tmp_path: Path) -> None:
    result = run_kfops("deploy", "--host", "http://127.0.0.1:9", env={"KF_PIPELINES_SA_TOKEN_PATH": ""})
    assert result.returncode == 2 and "no token" in result.stderr


def test_deploy_refuses_pipelines_whose_ecr_images_are_missing(
    server: tuple[str, State], tmp_path: Path, aws_env: dict[str, str]
) -> None:
    import boto3

    from components.images import component_names, image, repository

    registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    out = tmp_path / "ecr-build"
    # image references are fixed when the component modules are imported: compile in a fresh process
    compiled_ok = run_kfops("compile", "--output-dir", str(out), env={"KFOPS_IMAGE_REGISTRY": registry})
    assert compiled_ok.returncode == 0, compiled_ok.stderr
    host, state = server
    ecr = boto3.client("ecr")
    names = sorted(component_names())
    fresh_ecr_repositories([repository(n) for n in names])
    for name in names[1:]:  # all but the first are pushed
        ecr.put_image(
            repositoryName=repository(name),
            imageTag=image(name).rsplit(":", 1)[1],
            imageManifest=json.dumps({"schemaVersion": 2, "name": name}),
            imageManifestMediaType="application/vnd.oci.image.manifest.v1+json",
        )
    missing = f"{registry}/{repository(names[0])}:{image(names[0]).rsplit(':', 1)[1]}"
    assert missing in "".join(p.read_text() for p in out.glob("*.yaml"))
    with pytest.raises(DeployError, match=f"image {re.escape(missing)} is not in the registry"):
        deploy(host, TOKEN, out)
    assert state.log == []  # refused before any request to KFP
    ecr.put_image(
        repositoryName=repository(names[0]),
        imageTag=image(names[0]).rsplit(":", 1)[1],
        imageManifest=json.dumps({"schemaVersion": 2, "name": names[0]}),
        imageManifestMediaType="application/vnd.oci.image.manifest.v1+json",
    )
    assert len(deploy(host, TOKEN, out).uploaded) == 3  # every pipeline, once all images exist
