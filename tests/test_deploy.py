"""``kfops deploy`` against the fake KFP 2.17 API (tests/kfp_fake), through kfops' one client.

Every request kfops sends here is validated against the upstream swagger by the
``kfp_server`` fixture (unknown or output-only fields fail the test).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.kfp_api import ApiError, AuthError
from components.shared.errors import StoreError
from components.shared.names import PROJECT
from kfops.compile import compile_pipelines
from kfops.deploy import deploy, version_name
from tests.conftest import fresh_ecr_repositories, run_kfops
from tests.kfp_fake import State

TOKEN = "good-token"
NS = "team-ml"


@pytest.fixture(scope="module")
def all_compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compile_pipelines(tmp_path_factory.mktemp("compiled"))[0].parent


@pytest.fixture(scope="module")
def compiled(all_compiled: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Only the training pipeline, so request counts below are per pipeline."""
    folder = tmp_path_factory.mktemp("training-only")
    shutil.copy(all_compiled / "training.yaml", folder)
    return folder


@pytest.fixture
def enabled_schedules(tmp_path: Path) -> Path:
    """The repository's schedules.yaml with every schedule enabled."""
    data = yaml.safe_load(Path("schedules.yaml").read_text())
    for entry in data["schedules"]:
        entry["enabled"] = True
    path = tmp_path / "schedules.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """An empty local store, for the audit records."""
    folder = tmp_path / "store"
    folder.mkdir()
    return folder


@pytest.fixture
def refused_schedule(tmp_path: Path, kfp_server: tuple[str, State]) -> Path:
    """A schedules file of one run, whose create the server answers 400 (after the uploads)."""
    schedules = tmp_path / "s.yaml"
    schedules.write_text(
        yaml.safe_dump({"schedules": [{"name": "n", "pipeline": "training", "cron": "0 0 2 * * *"}]})
    )
    kfp_server[1].fail_paths = {"/apis/v2beta1/recurringruns": 400}
    return schedules


def changed_copy(compiled: Path, folder: Path, marker: str) -> Path:
    """A copy of ``compiled`` whose training spec differs (so its version name differs)."""
    shutil.copytree(compiled, folder)
    (folder / "training.yaml").write_text((compiled / "training.yaml").read_text() + f"\n# {marker}\n")
    return folder


def pipeline_named(state: State, name: str) -> dict[str, Any]:
    return next(p for p in state.pipelines.values() if p["name"] == name)


def content_versions(state: State, name: str) -> list[dict[str, Any]]:
    """The content-addressed versions of a pipeline (not the one the first upload names after it)."""
    pipeline = pipeline_named(state, name)
    return [v for v in state.versions[pipeline["pipeline_id"]] if v["name"] != name]


def changing(state: State) -> list[tuple[str, str]]:
    """Requests that reached the server and may change it (anything but GET)."""
    return [(r.method, r.path) for r in state.writes()]


def test_first_deploy_with_schedules_then_a_second_changes_nothing(
    kfp_server: tuple[str, State], all_compiled: Path, enabled_schedules: Path, tmp_path: Path
) -> None:
    """Three pipelines and their schedules go up through the upload endpoints; a second deploy is a no-op."""
    host, state = kfp_server
    (tmp_path / "store").mkdir()
    first = deploy(
        host,
        TOKEN,
        all_compiled,
        namespace=NS,
        schedules_file=enabled_schedules,
        store=str(tmp_path / "store"),
    )
    assert sorted(label.split("@")[0] for label in first.uploaded) == ["inference", "monitoring", "training"]
    assert state.uploads() == 6  # per pipeline: upload (creates it) + upload_version (the named version)
    paths = {r.path for r in state.log if r.method == "POST"}
    assert "/apis/v2beta1/pipelines/create" not in paths and not any(p.endswith("/versions") for p in paths)
    assert sorted(first.schedules["created"]) == ["inference-daily", "monitoring-daily", "training-weekly"]
    assert all(r["mode"] == "ENABLE" for r in state.recurring.values())
    (monitoring,) = content_versions(state, "monitoring")
    executors = monitoring["pipeline_spec"]["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"][
        "executors"
    ]
    assert executors["exec-retrain-trigger"]["podMetadata"]["labels"] == {"access-ml-pipeline": "true"}
    assert pipeline_named(state, "monitoring")["namespace"] == NS
    before = len(state.log)
    second = deploy(host, TOKEN, all_compiled, namespace=NS, schedules_file=enabled_schedules)
    assert second.uploaded == [] and len(second.unchanged) == 3
    assert second.schedules == {"unchanged": ["training-weekly", "monitoring-daily", "inference-daily"]}
    assert [r for r in state.log[before:] if r.method != "GET"] == []


def test_the_version_is_named_by_content_and_described_with_the_commit(
    kfp_server: tuple[str, State], compiled: Path, tmp_path: Path
) -> None:
    host, state = kfp_server
    (tmp_path / "store").mkdir()
    result = deploy(host, TOKEN, compiled, namespace=NS, store=str(tmp_path / "store"), commit="abc")
    expected = version_name("training", (compiled / "training.yaml").read_bytes())
    assert result.uploaded == [f"training@{expected}"] and result.unchanged == []
    (version,) = content_versions(state, "training")
    assert version["name"] == expected and json.loads(version["description"])["commit"] == "abc"
    assert version["pipeline_spec"]["pipelineInfo"]["name"] == "training"
    audit = json.loads(Path(result.audit_uri).read_text())
    assert audit["outcome"] == "succeeded" and audit["commit"] == "abc"
    assert [c["change"] for c in audit["changes"]] == ["pipeline created", "version uploaded"]


def test_a_changed_pipeline_adds_exactly_one_version(
    kfp_server: tuple[str, State], compiled: Path, tmp_path: Path
) -> None:
    host, state = kfp_server
    deploy(host, TOKEN, compiled, namespace=NS)
    uploads = state.uploads()
    result = deploy(host, TOKEN, changed_copy(compiled, tmp_path / "changed", "v2"), namespace=NS)
    assert len(result.uploaded) == 1 and len(state.pipelines) == 1
    assert state.uploads() == uploads + 1
    assert len(content_versions(state, "training")) == 2


@pytest.mark.parametrize("endpoint", ["/pipelines/upload", "/pipelines/upload_version"])
def test_a_lost_response_after_a_committed_upload_converges(
    kfp_server: tuple[str, State], compiled: Path, endpoint: str
) -> None:
    """The server commits the upload, then the connection drops: kfops finds it, uploads no duplicate."""
    host, state = kfp_server
    state.drop_after_commit = [endpoint]
    result = deploy(host, TOKEN, compiled, namespace=NS)
    assert [r.status for r in state.log if r.path.endswith(endpoint)] == [-1]  # one upload, answer lost
    assert len(result.uploaded) == 1 and len(content_versions(state, "training")) == 1
    again = deploy(host, TOKEN, compiled, namespace=NS)
    assert again.uploaded == [] and len([r for r in state.writes() if "/upload" in r.path]) == 2


def test_an_upload_answered_409_is_found_not_failed(kfp_server: tuple[str, State], compiled: Path) -> None:
    """Another deploy uploaded the same version between kfops' lookup and its upload."""
    from components.kfp_api import KfpApi

    host, state = kfp_server
    deploy(host, TOKEN, compiled, namespace=NS)
    api = KfpApi(host, TOKEN, NS)
    pipeline = api.find_pipeline("training")
    name = version_name("training", (compiled / "training.yaml").read_bytes())
    version, created = api.upload_version(pipeline.pipeline_id, compiled / "training.yaml", name, "again")
    assert created is False and version.name == name
    assert [r.status for r in state.log if r.path.endswith("/upload_version")] == [200, 409]


def test_transient_503s_on_reads_are_retried(kfp_server: tuple[str, State], compiled: Path) -> None:
    host, state = kfp_server
    state.faults = [503, 503]
    result = deploy(host, TOKEN, compiled, namespace=NS)
    assert len(result.uploaded) == 1


def test_a_503_to_an_upload_is_checked_before_it_is_sent_again(
    kfp_server: tuple[str, State], compiled: Path
) -> None:
    """A create is not retried blindly: after a 503 kfops looks, finds nothing, and uploads once more."""
    host, state = kfp_server
    state.fail_paths = {"/apis/v2beta1/pipelines/upload_version": 503}
    with pytest.raises(ApiError, match=r"upload version training-\w+: HTTP 503.*after \d attempts"):
        deploy(host, TOKEN, compiled, namespace=NS)
    attempts = [r for r in state.log if r.path.endswith("/upload_version")]
    lookups = [r for r in state.log if r.path.endswith("/versions") and "filter" in r.query]
    assert 1 < len(attempts) <= 4 and len(lookups) >= len(attempts)


def test_persistent_503_fails_clearly_after_bounded_retries(
    kfp_server: tuple[str, State], compiled: Path
) -> None:
    host, state = kfp_server
    state.faults = [503] * 50
    with pytest.raises(ApiError, match=r"reach the KFP API: HTTP 503.*after 4 attempts"):
        deploy(host, TOKEN, compiled, namespace=NS)
    assert len(state.log) == 4 and state.writes() == []


def test_a_silent_server_times_out_within_the_deadline(
    kfp_server: tuple[str, State], compiled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from components.kfp_api import RetryPolicy, client

    host, state = kfp_server
    state.delay, state.slow_paths = 2.0, ("/apis/v2beta1/pipelines",)
    policy = RetryPolicy(connect_timeout=1.0, read_timeout=0.3, backoff=0.01, attempts=2, deadline=5.0)
    monkeypatch.setattr(client, "DEFAULT_POLICY", policy)
    started = time.monotonic()
    with pytest.raises(ApiError, match=r"list pipelines in namespace team-ml: no answer .*after 2 attempts"):
        deploy(host, TOKEN, compiled, namespace=NS)
    assert time.monotonic() - started < 5 and state.writes() == []


@pytest.mark.parametrize(
    ("token", "gateway_routes", "expected"),
    [
        ("expired", (), r"HTTP 401 .* the token was refused"),  # Istio: Jwt verification fails
        ("", (), r"redirected to /oauth2/start \(a login page\)"),  # oauth2-proxy, no token
        ("", ("/apis/",), r"HTTP 401 .* the token was refused"),  # oauth2-proxy api_routes
    ],
)
def test_the_gateway_refusing_the_token_fails_at_once(
    kfp_server: tuple[str, State], compiled: Path, token: str, gateway_routes: tuple[str, ...], expected: str
) -> None:
    host, state = kfp_server
    state.gateway_api_routes = gateway_routes
    started = time.monotonic()
    with pytest.raises(AuthError, match=expected):
        deploy(host, token, compiled, namespace=NS)
    assert time.monotonic() - started < 5
    assert len(state.log) == 1 and state.writes() == []  # the first request; not retried


def test_a_namespace_the_token_may_not_use_is_refused_before_any_write(
    kfp_server: tuple[str, State], compiled: Path
) -> None:
    host, state = kfp_server
    with pytest.raises(AuthError, match=r"HTTP 403 .* may edit pipelines in namespace team-other"):
        deploy(host, TOKEN, compiled, namespace="team-other")
    assert state.writes() == [] and state.pipelines == {}


def test_a_multi_user_server_needs_a_namespace(kfp_server: tuple[str, State], compiled: Path) -> None:
    """Without one the upload would create a shared pipeline, visible to every profile."""
    host, state = kfp_server
    with pytest.raises(ApiError, match="multi-user KFP: give the profile namespace"):
        deploy(host, TOKEN, compiled)
    assert state.writes() == []


@pytest.mark.parametrize("version", ["1.8.5", "3.0.0", "v3.1.0"])
def test_an_unsupported_server_version_is_refused(
    kfp_server: tuple[str, State], compiled: Path, version: str
) -> None:
    # Older and newer majors alike: kfp 2.17's client speaks only the v2 API of a 2.x backend.
    host, state = kfp_server
    state.server_version = version
    with pytest.raises(ApiError, match=rf"KFP backend {re.escape(version)} .* is not supported"):
        deploy(host, TOKEN, compiled, namespace=NS)
    assert state.writes() == []


def test_a_failure_after_uploads_still_leaves_an_audit_of_them(
    kfp_server: tuple[str, State], compiled: Path, store: Path, refused_schedule: Path
) -> None:
    host, _ = kfp_server
    with pytest.raises(ApiError, match="create recurring run kfops:n: HTTP 400"):
        deploy(host, TOKEN, compiled, namespace=NS, store=str(store), schedules_file=refused_schedule)
    (record,) = (json.loads(p.read_text()) for p in (store / "metrics" / "deploys").glob("*.json"))
    assert record["outcome"] == "failed" and "HTTP 400" in record["error"]
    assert [c["change"] for c in record["changes"]] == ["pipeline created", "version uploaded"]


def audit_records(store: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((store / "metrics" / "deploys").glob("*.json"))]


def test_every_deploy_records_its_audit_also_when_nothing_changed(
    kfp_server: tuple[str, State], compiled: Path, store: Path
) -> None:
    host, state = kfp_server
    first = deploy(host, TOKEN, compiled, namespace=NS, store=str(store), commit="c1", actor="ci")
    second = deploy(host, TOKEN, compiled, namespace=NS, store=str(store), commit="c2", actor="me")
    assert second.uploaded == [] and second.unchanged == first.uploaded
    assert second.versions == first.versions
    created, unchanged = audit_records(store)
    assert second.audit_uri.endswith(".json") and json.loads(Path(second.audit_uri).read_text()) == unchanged
    facts = ("host", "namespace", "commit", "actor", "outcome", "error", "changes")
    assert {k: unchanged[k] for k in facts} == {
        "host": host, "namespace": NS, "commit": "c2", "actor": "me", "outcome": "succeeded", "error": "",
        "changes": [],
    }  # fmt: skip
    assert unchanged["unchanged"] == first.uploaded and unchanged["uploaded"] == []
    pipeline_id, version_id = first.versions["training"]
    assert [c["id"] for c in created["changes"]] == [pipeline_id, version_id]
    assert [c["name"] for c in created["changes"]] == ["training", first.uploaded[0]]
    (version,) = content_versions(state, "training")
    assert version["pipeline_version_id"] == version_id
    description = json.loads(version["description"])  # marks the version as the project's
    assert description.pop("time") and description == {PROJECT: True, "commit": "c1", "actor": "ci"}


def test_a_deploy_that_fails_before_changing_anything_records_no_audit(
    kfp_server: tuple[str, State], compiled: Path, store: Path
) -> None:
    host, state = kfp_server
    state.fail_paths = {"/apis/v2beta1/pipelines/upload": 400}
    with pytest.raises(ApiError, match="upload pipeline training: HTTP 400"):
        deploy(host, TOKEN, compiled, namespace=NS, store=str(store))
    assert state.pipelines == {} and not (store / "metrics").exists()


def test_a_dry_run_writes_no_audit_record(
    kfp_server: tuple[str, State], compiled: Path, store: Path, tmp_path: Path
) -> None:
    host, state = kfp_server
    preview = deploy(host, TOKEN, compiled, namespace=NS, store=str(store), dry_run=True)
    (label,) = preview.uploaded
    assert preview.audit_uri == "" and list(store.iterdir()) == [] and state.writes() == []
    assert preview.versions == {"training": ("", f"(new) {label.split('@')[1]}")}
    deploy(host, TOKEN, compiled, namespace=NS)
    changed = changed_copy(compiled, tmp_path / "changed", "dry")
    again = deploy(host, TOKEN, changed, namespace=NS, dry_run=True)
    pipeline_id = pipeline_named(state, "training")["pipeline_id"]
    assert again.versions == {"training": (pipeline_id, f"(new) {again.uploaded[0].split('@')[1]}")}


def test_an_audit_that_cannot_be_written_fails_a_deploy_that_succeeded(
    kfp_server: tuple[str, State], compiled: Path, store: Path
) -> None:
    host, _ = kfp_server
    (store / "metrics").write_text("a file where the audit's folder goes")
    with pytest.raises(StoreError, match="cannot write to store"):
        deploy(host, TOKEN, compiled, namespace=NS, store=str(store))


def test_an_audit_that_cannot_be_written_after_a_failure_is_a_warning_and_the_failure_is_raised(
    kfp_server: tuple[str, State],
    compiled: Path,
    store: Path,
    refused_schedule: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    host, _ = kfp_server
    (store / "metrics").write_text("a file where the audit's folder goes")
    with pytest.raises(ApiError, match="create recurring run kfops:n: HTTP 400"):
        deploy(host, TOKEN, compiled, namespace=NS, store=str(store), schedules_file=refused_schedule)
    assert (
        "warning: the audit record of the changes made could not be written: cannot write"
        in capsys.readouterr().out
    )


def test_dry_run_reads_only_and_says_what_would_change(
    kfp_server: tuple[str, State], compiled: Path, tmp_path: Path
) -> None:
    host, state = kfp_server
    entries = [
        {"name": "nightly", "pipeline": "training", "cron": "0 0 2 * * *"},
        {"name": "weekly", "pipeline": "training", "cron": "0 0 3 * * 1"},
    ]
    schedules = tmp_path / "s.yaml"
    schedules.write_text(yaml.safe_dump({"schedules": entries}))
    deploy(host, TOKEN, compiled, namespace=NS, schedules_file=schedules)
    schedules.write_text(
        yaml.safe_dump(
            {
                "schedules": [
                    {**entries[0], "cron": "0 30 2 * * *"},
                    entries[1],
                    {"name": "new", "pipeline": "training", "cron": "0 0 4 * * *"},
                ]
            }
        )
    )
    before = len(state.log)
    changed = changed_copy(compiled, tmp_path / "changed", "dry")
    preview = deploy(host, TOKEN, changed, namespace=NS, schedules_file=schedules, dry_run=True)
    assert {r.method for r in state.log[before:]} == {"GET"}
    assert len(preview.uploaded) == 1
    # the new version moves every training schedule: each one is replaced, the new one created
    assert preview.schedules == {"created": ["new"], "replaced": ["nightly", "weekly"]}
    real = deploy(host, TOKEN, changed, namespace=NS, schedules_file=schedules)
    assert real.schedules == preview.schedules and real.uploaded == preview.uploaded


def test_cli_deploy_twice_with_a_token_file(kfp_server: tuple[str, State], tmp_path: Path) -> None:
    host, state = kfp_server
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    (tmp_path / "store").mkdir()
    args = (
        "deploy",
        "--host",
        host,
        "--namespace",
        NS,
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
    assert "schedule training-weekly: created" in first.stdout
    second = run_kfops(*args)
    assert second.returncode == 0 and "0 uploaded, 3 unchanged; 0 schedule change(s)" in second.stdout
    assert state.uploads() == 6
    assert len(list((tmp_path / "store" / "metrics" / "deploys").glob("*.json"))) == 2


def test_cli_dry_run_says_would(kfp_server: tuple[str, State], tmp_path: Path) -> None:
    host, state = kfp_server
    token = tmp_path / "token"
    token.write_text(TOKEN)
    result = run_kfops(
        "deploy", "--host", host, "--namespace", NS, "--token-file", str(token),
        "--pipelines-dir", str(tmp_path / "build"), "--dry-run",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "would upload" in result.stdout and "schedule training-weekly: would be created" in result.stdout
    assert "(dry run: nothing was changed)" in result.stdout
    assert state.writes() == []


BAD_LOCAL_INPUT = {
    "missing store": (lambda t: ["--store", str(t / "absent")], "absent"),
    "store under a file": (lambda t: ["--store", str(t / "token" / "store")], "token"),
    "bad schedules file": (lambda t: ["--schedules", str(t / "bad.yaml")], "bad.yaml"),
    "schedule of no pipeline": (lambda t: ["--schedules", str(t / "orphan.yaml")], "unknown pipeline"),
    "token with a newline inside": (lambda t: ["--token-file", str(t / "two-lines")], "not a token"),
    "token of binary bytes": (lambda t: ["--token-file", str(t / "binary")], "not a token"),
    "empty token": (lambda t: ["--token-file", str(t / "empty")], "is empty"),
    "not a url": (lambda t: ["--host", "not a url"], "is not an http(s) URL"),
}


@pytest.mark.parametrize("case", sorted(BAD_LOCAL_INPUT))
def test_bad_local_input_exits_2_before_any_request(
    kfp_server: tuple[str, State], tmp_path: Path, all_compiled: Path, case: str
) -> None:
    """One ``error:`` line, exit 2, and the server never asked (its state unchanged)."""
    host, state = kfp_server
    (tmp_path / "token").write_text(TOKEN)
    (tmp_path / "two-lines").write_text("s3cret-part-one\ns3cret-part-two\n")
    (tmp_path / "binary").write_bytes(b"\xff\xfeabc")
    (tmp_path / "empty").write_text("\n")
    (tmp_path / "bad.yaml").write_text("schedules: [\n")
    (tmp_path / "orphan.yaml").write_text(
        yaml.safe_dump({"schedules": [{"name": "x", "pipeline": "nope", "cron": "0 0 2 * * *"}]})
    )
    shutil.copytree(all_compiled, tmp_path / "build")
    make_args, message = BAD_LOCAL_INPUT[case]
    extra = make_args(tmp_path)
    base = {"--host": host, "--namespace": NS, "--token-file": str(tmp_path / "token"),
            "--pipelines-dir": str(tmp_path / "build"), "--store": str(tmp_path)}  # fmt: skip
    base.update(dict(zip(extra[::2], extra[1::2], strict=True)))
    result = run_kfops("deploy", *[x for pair in base.items() for x in pair])
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.stderr
    assert state.log == [] and state.pipelines == {}
    assert "s3cret" not in result.stdout + result.stderr  # a token is never printed


def test_cli_wrong_token_exits_1_within_5_seconds_naming_the_cause(
    kfp_server: tuple[str, State], tmp_path: Path, all_compiled: Path
) -> None:
    host, state = kfp_server
    (tmp_path / "token").write_text("wrong")
    started = time.monotonic()
    result = run_kfops(
        "deploy", "--host", host, "--namespace", NS, "--token-file", str(tmp_path / "token"),
        "--pipelines-dir", str(tmp_path / "build"), "--store", str(tmp_path),
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert result.returncode == 1 and "HTTP 401" in result.stderr and "token was refused" in result.stderr
    assert elapsed < 5 + 3, f"{elapsed:.1f} s (the CLI's own start and compile take ~3 s)"
    assert state.writes() == []


def test_cli_dead_endpoint_fails_within_60_seconds(tmp_path: Path) -> None:
    """Nothing listens: connection refused, retried with backoff, then one error line."""
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "token").write_text(TOKEN)
    started = time.monotonic()
    result = run_kfops(
        "deploy", "--host", f"http://127.0.0.1:{port}", "--namespace", NS,
        "--token-file", str(tmp_path / "token"), "--pipelines-dir", str(tmp_path / "build"),
        "--store", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 1 and "no answer from" in result.stderr, result.stderr
    assert time.monotonic() - started < 60


def test_cli_without_a_token_is_a_usage_error(tmp_path: Path) -> None:
    result = run_kfops("deploy", "--host", "http://127.0.0.1:9", env={"KF_PIPELINES_SA_TOKEN_PATH": ""})
    assert result.returncode == 2 and "no token" in result.stderr


def test_deploy_refuses_pipelines_whose_ecr_images_are_missing(
    kfp_server: tuple[str, State], tmp_path: Path, aws_env: dict[str, str]
) -> None:
    import boto3

    from components.images import component_names, image, repository
    from components.shared.errors import InputError

    registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    out = tmp_path / "ecr-build"
    # image references are fixed when the component modules are imported: compile in a fresh process
    compiled_ok = run_kfops("compile", "--output-dir", str(out), env={"KFOPS_IMAGE_REGISTRY": registry})
    assert compiled_ok.returncode == 0, compiled_ok.stderr
    host, state = kfp_server
    ecr = boto3.client("ecr")
    names = sorted(component_names())
    fresh_ecr_repositories([repository(n) for n in names])

    def push(name: str) -> None:
        ecr.put_image(
            repositoryName=repository(name),
            imageTag=image(name).rsplit(":", 1)[1],
            imageManifest=json.dumps({"schemaVersion": 2, "name": name}),
            imageManifestMediaType="application/vnd.oci.image.manifest.v1+json",
        )

    for name in names[1:]:  # all but the first are pushed
        push(name)
    missing = f"{registry}/{repository(names[0])}:{image(names[0]).rsplit(':', 1)[1]}"
    assert missing in "".join(p.read_text() for p in out.glob("*.yaml"))
    with pytest.raises(InputError, match=f"image {re.escape(missing)} is not in the registry"):
        deploy(host, TOKEN, out, namespace=NS)
    (tmp_path / "token").write_text(TOKEN)
    cli = run_kfops(
        "deploy", "--host", host, "--namespace", NS, "--token-file", str(tmp_path / "token"),
        "--pipelines-dir", str(tmp_path / "cli-build"), "--store", str(tmp_path),
        env={"KFOPS_IMAGE_REGISTRY": registry},
    )  # fmt: skip
    assert cli.returncode == 2 and cli.stderr.count("\n") == 1 and "is not in the registry" in cli.stderr
    assert state.log == []  # refused before any request to KFP
    push(names[0])
    assert len(deploy(host, TOKEN, out, namespace=NS).uploaded) == 3  # every pipeline, once all images exist


def test_cli_silent_server_fails_within_the_configured_network_deadline(tmp_path: Path) -> None:
    """A host that accepts the connection and never answers: KFOPS_NETWORK_TIMEOUT bounds each call."""
    import socket

    (tmp_path / "token").write_text(TOKEN)
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(16)  # connections are accepted by the kernel; nothing ever reads them
        started = time.monotonic()
        result = run_kfops(
            "deploy", "--host", f"http://127.0.0.1:{hole.getsockname()[1]}", "--namespace", NS,
            "--token-file", str(tmp_path / "token"), "--pipelines-dir", str(tmp_path / "build"),
            "--store", str(tmp_path), env={"KFOPS_NETWORK_TIMEOUT": "4"},
        )  # fmt: skip
        elapsed = time.monotonic() - started
    assert result.returncode == 1 and "timed out: no response within 2 s" in result.stderr, result.stderr
    assert elapsed < 4 + 10, f"{elapsed:.1f} s (the CLI's own start and compile take a few seconds)"
