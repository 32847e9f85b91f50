"""The fake KFP API server (tests/kfp_fake) refuses what KFP 2.17 refuses and accepts what it accepts.

Negative controls send the wrong request and expect the upstream answer; positive
controls go through the real generated client ``kfp_server_api``.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import kfp_server_api as k
import pytest
from kfp_server_api.rest import ApiException

from tests.kfp_fake import State, serve
from tests.kfp_fake.scheduler import Schedule, parse_cron

SPEC = """\
pipelineInfo: {name: train}
root: {dag: {tasks: {}}}
schemaVersion: 2.1.0
sdkVersion: kfp-2.17.0
"""
PLATFORM = """\
---
platforms:
  kubernetes:
    deploymentSpec: {executors: {exec-train: {nodeSelector: {labels: {pool: gpu}}}}}
"""
URL = "https://raw.githubusercontent.com/acme/kfops/main/train.yaml"
T0 = datetime(2030, 1, 1, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> Iterator[tuple[str, State]]:
    with serve(State(clock=Clock())) as pair:
        yield pair


def client(host: str, token: str | None = "good-token") -> k.ApiClient:
    cfg = k.Configuration(host=host)
    if token:
        cfg.api_key["authorization"] = token
        cfg.api_key_prefix["authorization"] = "Bearer"
    return k.ApiClient(cfg)


def raw(
    host: str,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = "good-token",
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
) -> tuple[int, Any, dict[str, str]]:
    conn = http.client.HTTPConnection(urlparse(host).netloc, timeout=10)
    hdrs = dict(headers or {})
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    payload = resp.read()
    try:
        parsed: Any = json.loads(payload) if payload else None
    except json.JSONDecodeError:
        parsed = payload.decode()
    return resp.status, parsed, dict(resp.getheaders())


def spec_file(tmp_path: Path, text: str = SPEC, name: str = "train.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def upload(
    host: str, tmp_path: Path, name: str = "train", namespace: str | None = "team-ml", text: str = SPEC
) -> Any:
    kwargs = {"name": name} | ({"namespace": namespace} if namespace is not None else {})
    return k.PipelineUploadServiceApi(client(host)).upload_pipeline(spec_file(tmp_path, text), **kwargs)


def experiment(host: str, name: str = "exp", namespace: str = "team-ml") -> Any:
    api = k.ExperimentServiceApi(client(host))
    return api.experiment_service_create_experiment(
        k.V2beta1Experiment(display_name=name, namespace=namespace)
    )


def recurring_body(exp_id: str, pid: str, vid: str, **extra: Any) -> dict[str, Any]:
    body = {
        "display_name": "nightly",
        "experiment_id": exp_id,
        "max_concurrency": "1",
        "mode": "ENABLE",
        "pipeline_version_reference": {"pipeline_id": pid, "pipeline_version_id": vid},
        "trigger": {"cron_schedule": {"cron": "0 0 3 * * *"}},
    }
    body.update(extra)
    return body


def setup_pipeline(host: str, tmp_path: Path) -> tuple[str, str, str]:
    p = upload(host, tmp_path)
    versions = k.PipelineServiceApi(client(host)).pipeline_service_list_pipeline_versions(p.pipeline_id)
    return experiment(host).experiment_id, p.pipeline_id, versions.pipeline_versions[0].pipeline_version_id


# --- gateway and health ------------------------------------------------------------


def test_healthz_reports_what_main_go_writes(fake: tuple[str, State]) -> None:
    host, _ = fake
    health = k.HealthzServiceApi(client(host)).healthz_service_get_healthz()
    assert health.multi_user is True  # the generated model has no tag_name: read the raw JSON
    status, body, _ = raw(host, "GET", "/apis/v2beta1/healthz")
    assert body == {
        "commit_sha": "4a3592cb2dd0a91a4652ab93893ec8beda1f3158",
        "tag_name": "2.17.0",
        "multi_user": True,
        "pipeline_store": "database",
    }
    status, body, _ = raw(host, "GET", "/apis/v1beta1/healthz")
    assert status == 200 and "pipeline_store" not in body  # omitempty with ""


def test_gateway_redirects_tokenless_and_refuses_bad_tokens(fake: tuple[str, State]) -> None:
    host, state = fake
    status, _, headers = raw(host, "GET", "/apis/v2beta1/healthz", token=None)
    assert status == 302 and headers["Location"].startswith("/oauth2/start")
    status, body, _ = raw(host, "GET", "/apis/v2beta1/pipelines", token="forged")
    assert status == 401 and body == "Jwt verification fails"
    assert state.writes() == []  # nothing reached ml-pipeline
    state.gateway_api_routes = ("/apis/",)  # kubeflow/manifests oauth2_proxy.cfg api_routes
    assert raw(host, "GET", "/apis/v2beta1/healthz", token=None)[0] == 401


def test_direct_access_without_identity_is_unauthenticated() -> None:
    with serve(State(gateway="none")) as (host, _):
        status, body, _ = raw(host, "GET", "/apis/v2beta1/experiments?namespace=team-ml", token=None)
        assert status == 401 and body["code"] == 16
        # Shared pipelines are listed without authorization (pipeline_server.go:1293-1296).
        assert raw(host, "GET", "/apis/v2beta1/pipelines", token=None)[0] == 200


# --- CreatePipelineAndVersion / CreatePipelineVersion ------------------------------------


def test_kfops_inline_pipeline_spec_request_is_refused(fake: tuple[str, State]) -> None:
    host, state = fake
    api = k.PipelineServiceApi(client(host))
    body = k.V2beta1CreatePipelineAndVersionRequest(
        pipeline=k.V2beta1Pipeline(display_name="train", namespace="team-ml"),
        pipeline_version=k.V2beta1PipelineVersion(display_name="train", pipeline_spec={"pipelineInfo": {}}),
    )
    with pytest.raises(ApiException) as err:
        api.pipeline_service_create_pipeline_and_version(body)
    assert err.value.status == 400
    assert any("pipeline_spec is output-only" in v for v in state.violations)
    # Even when the output-only field is tolerated, upstream ignores it and needs a package URL.
    state.strict_schema = False
    with pytest.raises(ApiException) as err:
        api.pipeline_service_create_pipeline_and_version(body)
    assert err.value.status == 400 and "invalid pipeline spec URL" in err.value.body
    assert state.pipelines == {}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://raw.githubusercontent.com/a/train.yaml", "scheme"),
        ("https://raw.githubusercontent.com:8443/a/train.yaml", "port"),
        ("https://example.com/train.yaml", "allowlist"),
        ("https://github.com/internal/train.yaml", "blocked"),
    ],
)
def test_package_url_validation(fake: tuple[str, State], url: str, reason: str) -> None:
    host, state = fake
    state.dns["github.com"] = "10.0.0.7"  # a private address: blocked (pipeline_url.go:42-64)
    state.package_urls[url] = SPEC.encode()
    body = {
        "pipeline": {"name": "train", "namespace": "team-ml"},
        "pipeline_version": {"package_url": {"pipeline_url": url}},
    }
    status, resp, _ = raw(host, "POST", "/apis/v2beta1/pipelines/create", body)
    assert status == 400 and "Pipeline URL validation failed" in resp["message"], reason


def test_create_pipeline_and_version_from_url(fake: tuple[str, State]) -> None:
    host, state = fake
    state.package_urls[URL] = (SPEC + PLATFORM).encode()
    api = k.PipelineServiceApi(client(host))
    body = k.V2beta1CreatePipelineAndVersionRequest(
        pipeline=k.V2beta1Pipeline(name="train", namespace="team-ml"),
        pipeline_version=k.V2beta1PipelineVersion(package_url=k.V2beta1Url(pipeline_url=URL)),
    )
    p = api.pipeline_service_create_pipeline_and_version(body)
    versions = api.pipeline_service_list_pipeline_versions(p.pipeline_id).pipeline_versions
    assert [v.name for v in versions] == ["train"]  # the first version is named like the pipeline
    assert versions[0].pipeline_spec["platform_spec"]["platforms"]["kubernetes"]
    assert state.violations == [] and state.uploads() == 1
    with pytest.raises(ApiException) as err:
        api.pipeline_service_create_pipeline_and_version(body)
    assert err.value.status == 409


def test_create_pipeline_version_fail_fast_messages(fake: tuple[str, State], tmp_path: Path) -> None:
    host, state = fake
    pid = upload(host, tmp_path).pipeline_id
    path = f"/apis/v2beta1/pipelines/{pid}/versions"
    assert "Package URL is nil" in raw(host, "POST", path, {"name": "v2", "pipeline_id": pid})[1]["message"]
    body = {"name": "v2", "pipeline_id": pid, "package_url": {"pipeline_url": ""}}
    assert "Package URL is empty" in raw(host, "POST", path, body)[1]["message"]
    body = {"name": "v2", "package_url": {"pipeline_url": URL}}
    assert "Parent pipeline id is empty" in raw(host, "POST", path, body)[1]["message"]
    state.package_urls[URL] = SPEC.encode()
    api = k.PipelineServiceApi(client(host))
    version = api.pipeline_service_create_pipeline_version(
        pid, k.V2beta1PipelineVersion(name="v2", pipeline_id=pid, package_url=k.V2beta1Url(pipeline_url=URL))
    )
    assert (
        version.package_url.pipeline_url == URL and version.pipeline_spec["pipelineInfo"]["name"] == "train"
    )


# --- uploads ---------------------------------------------------------------------------


def test_upload_stores_spec_and_platform_spec(fake: tuple[str, State], tmp_path: Path) -> None:
    host, state = fake
    p = upload(host, tmp_path, text=SPEC + PLATFORM)
    assert (p.name, p.display_name, p.namespace) == ("train", "train", "team-ml")
    upload_api = k.PipelineUploadServiceApi(client(host))
    v = upload_api.upload_pipeline_version(
        spec_file(tmp_path, SPEC, "v2.yaml"), name="v2", pipelineid=p.pipeline_id
    )
    assert v.name == "v2" and v.pipeline_spec["schemaVersion"] == "2.1.0"
    first = state.versions[p.pipeline_id][0]
    assert first["name"] == "train"
    assert first["pipeline_spec"]["platform_spec"]["platforms"]["kubernetes"]["deploymentSpec"]
    assert state.uploads() == 2 and state.violations == []


def test_upload_duplicates_are_409(fake: tuple[str, State], tmp_path: Path) -> None:
    host, _ = fake
    p = upload(host, tmp_path)
    with pytest.raises(ApiException) as err:
        upload(host, tmp_path)
    assert err.value.status == 409
    assert upload(host, tmp_path, namespace=None).namespace is None  # same name, shared: allowed
    api = k.PipelineUploadServiceApi(client(host))
    with pytest.raises(ApiException) as err:
        api.upload_pipeline_version(spec_file(tmp_path), name="train", pipelineid=p.pipeline_id)
    assert err.value.status == 409
    assert json.loads(err.value.body)["error_message"] == "Failed to create a pipeline version"


def test_upload_authorization_failure_is_400(fake: tuple[str, State], tmp_path: Path) -> None:
    host, _ = fake
    with pytest.raises(ApiException) as err:
        upload(host, tmp_path, namespace="team-other")
    assert err.value.status == 400
    assert json.loads(err.value.body)["error_message"] == "Failed to create a pipeline"


def test_upload_namespace_required_only_when_configured(tmp_path: Path) -> None:
    with serve(State(require_namespace_for_pipelines=True)) as (host, _):
        with pytest.raises(ApiException) as err:
            upload(host, tmp_path, namespace=None)
        assert err.value.status == 400 and "Namespace is required" in err.value.body


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("train.txt", SPEC, "Failed to read a pipeline spec file"),
        ("train.yaml", "kind: Workflow\n", "unknown template format"),
        ("train.yaml", SPEC.replace("2.1.0", "2.0.0"), "schema version 2.1.0"),
        ("train.yaml", SPEC.replace("{name: train}", "{name: Train_Model}"), "lowercase"),
        ("train.yaml", SPEC + "---\n" + SPEC, "multiple pipeline specs"),
        ("train.yaml", SPEC + "bogusField: 1\n", "unknown template format"),
    ],
)
def test_upload_file_parsing(
    fake: tuple[str, State], tmp_path: Path, name: str, text: str, needle: str
) -> None:
    host, state = fake
    api = k.PipelineUploadServiceApi(client(host))
    with pytest.raises(ApiException) as err:
        api.upload_pipeline(spec_file(tmp_path, text, name), name="train", namespace="team-ml")
    assert err.value.status == 400 and needle in err.value.body
    assert state.pipelines == {}


def test_upload_name_falls_back_to_file_name(fake: tuple[str, State], tmp_path: Path) -> None:
    host, _ = fake
    p = k.PipelineUploadServiceApi(client(host)).upload_pipeline(spec_file(tmp_path), namespace="team-ml")
    assert p.name == "train.yaml"  # buildPipelineName


def test_upload_file_size_limit(fake: tuple[str, State], tmp_path: Path) -> None:
    host, _ = fake
    big = SPEC + "#" * (32 << 20)
    with pytest.raises(ApiException) as err:
        upload(host, tmp_path, text=big)
    assert err.value.status == 400


# --- listings ----------------------------------------------------------------------------


def test_list_pipelines_namespace_and_filter(fake: tuple[str, State], tmp_path: Path) -> None:
    host, _ = fake
    upload(host, tmp_path, "a")
    upload(host, tmp_path, "b")
    upload(host, tmp_path, "shared", namespace=None)
    api = k.PipelineServiceApi(client(host))
    assert [p.name for p in api.pipeline_service_list_pipelines().pipelines] == ["shared"]
    first = api.pipeline_service_list_pipelines(namespace="team-ml", page_size=1, sort_by="name desc")
    assert [p.name for p in first.pipelines] == ["b"] and first.total_size == 2
    second = api.pipeline_service_list_pipelines(
        namespace="team-ml", page_size=1, page_token=first.next_page_token
    )
    assert [p.name for p in second.pipelines] == ["a"] and not second.next_page_token
    for flt in (
        {"predicates": [{"key": "name", "operation": "EQUALS", "string_value": "a"}]},
        {"predicates": [{"key": "name", "operation": 1, "stringValue": "a"}]},
    ):
        found = api.pipeline_service_list_pipelines(namespace="team-ml", filter=json.dumps(flt))
        assert [p.name for p in found.pipelines] == ["a"]
    with pytest.raises(ApiException) as err:
        api.pipeline_service_list_pipelines(namespace="team-other")
    assert err.value.status == 403


@pytest.mark.parametrize(
    "query",
    [
        "filter=" + quote(json.dumps({"predicates": [{"key": "name", "string_value": "a"}]})),
        "filter="
        + quote(json.dumps({"predicates": [{"key": "bogus", "operation": "EQUALS", "string_value": "a"}]})),
        "filter=" + quote(json.dumps({"predicates": [{"key": "name", "operation": "EQUALS", "value": "a"}]})),
        "filter=not-json",
        "page_token=not-a-token",
        "sort_by=" + quote("name sideways"),
        "sort_by=colour",
        "page_size=-1",
    ],
)
def test_bad_listing_options_are_400(fake: tuple[str, State], query: str) -> None:
    host, _ = fake
    status, body, _ = raw(host, "GET", f"/apis/v2beta1/pipelines?namespace=team-ml&{query}")
    assert status == 400 and body["code"] == 3


def test_token_must_match_sort_and_filter(fake: tuple[str, State], tmp_path: Path) -> None:
    host, _ = fake
    for name in ("a", "b", "c"):
        upload(host, tmp_path, name)
    api = k.PipelineServiceApi(client(host))
    first = api.pipeline_service_list_pipelines(namespace="team-ml", sort_by="name")
    with pytest.raises(ApiException) as err:
        api.pipeline_service_list_pipelines(
            namespace="team-ml", page_token=first.next_page_token, sort_by="name desc"
        )
    assert err.value.status == 400 and "page token does not match" in err.value.body


def test_listings_that_need_a_namespace(fake: tuple[str, State], tmp_path: Path) -> None:
    host, state = fake
    exp_id, _, _ = setup_pipeline(host, tmp_path)
    for path in ("/apis/v2beta1/experiments", "/apis/v2beta1/recurringruns", "/apis/v2beta1/runs"):
        status, body, _ = raw(host, "GET", path)
        assert status == 400 and "empty namespace" in body["message"], path
        assert raw(host, "GET", path + "?namespace=team-ml")[0] == 200
        assert raw(host, "GET", path + "?namespace=team-other")[0] == 403
    assert raw(host, "GET", f"/apis/v2beta1/recurringruns?experiment_id={exp_id}")[0] == 200
    # An unknown query parameter is ignored upstream; the fake records it.
    status, _, _ = raw(host, "GET", "/apis/v2beta1/pipelines?namespace=team-ml&colour=red")
    assert status == 400 and any("'colour'" in v for v in state.violations)


# --- schema --------------------------------------------------------------------------------


def test_unknown_body_fields_are_refused_even_when_lenient(fake: tuple[str, State]) -> None:
    host, state = fake
    state.strict_schema = False
    status, body, _ = raw(
        host,
        "POST",
        "/apis/v2beta1/experiments",
        {"display_name": "e", "namespace": "team-ml", "colour": "red"},
    )
    assert status == 400 and "colour" in body["message"]
    # protojson accepts lowerCamelCase names: recorded, not refused when lenient.
    status, _, _ = raw(
        host, "POST", "/apis/v2beta1/experiments", {"displayName": "e2", "namespace": "team-ml"}
    )
    assert status == 200 and any("displayName" in v for v in state.violations)


def test_naive_timestamps_are_refused(fake: tuple[str, State], tmp_path: Path) -> None:
    host, _ = fake
    exp_id, pid, vid = setup_pipeline(host, tmp_path)
    body = recurring_body(
        exp_id,
        pid,
        vid,
        trigger={"cron_schedule": {"cron": "0 0 3 * * *", "start_time": "2030-01-01T00:00:00"}},
    )
    assert raw(host, "POST", "/apis/v2beta1/recurringruns", body)[0] == 400


# --- experiments, recurring runs, runs --------------------------------------------------------


def test_experiments(fake: tuple[str, State]) -> None:
    host, _ = fake
    e = experiment(host)
    assert e.namespace == "team-ml" and e.storage_state == "AVAILABLE"
    assert (
        raw(host, "POST", "/apis/v2beta1/experiments", {"display_name": "exp", "namespace": "team-ml"})[0]
        == 409
    )
    assert raw(host, "POST", "/apis/v2beta1/experiments", {"display_name": "x"})[0] == 400
    assert (
        raw(host, "POST", "/apis/v2beta1/experiments", {"display_name": "x", "namespace": "team-other"})[0]
        == 403
    )
    listed = k.ExperimentServiceApi(client(host)).experiment_service_list_experiments(namespace="team-ml")
    assert [x.display_name for x in listed.experiments] == ["exp"]


def test_recurring_run_positive(fake: tuple[str, State], tmp_path: Path) -> None:
    host, state = fake
    exp_id, pid, vid = setup_pipeline(host, tmp_path)
    api = k.RecurringRunServiceApi(client(host))
    run = api.recurring_run_service_create_recurring_run(
        k.V2beta1RecurringRun(
            display_name="nightly",
            experiment_id=exp_id,
            max_concurrency="1",
            mode="ENABLE",
            pipeline_version_reference=k.V2beta1PipelineVersionReference(
                pipeline_id=pid, pipeline_version_id=vid
            ),
            trigger=k.V2beta1Trigger(cron_schedule=k.V2beta1CronSchedule(cron="0 0 3 * * *")),
        )
    )
    assert run.namespace == "team-ml" and run.status == "ENABLED"
    assert api.recurring_run_service_get_recurring_run(run.recurring_run_id).display_name == "nightly"
    listed = api.recurring_run_service_list_recurring_runs(experiment_id=exp_id)
    assert [r.recurring_run_id for r in listed.recurring_runs] == [run.recurring_run_id]
    api.recurring_run_service_disable_recurring_run(run.recurring_run_id)
    api.recurring_run_service_enable_recurring_run(run.recurring_run_id)
    api.recurring_run_service_delete_recurring_run(run.recurring_run_id)
    assert state.recurring == {} and state.violations == []


def test_recurring_run_mode_defaults_to_disabled(fake: tuple[str, State], tmp_path: Path) -> None:
    host, _ = fake
    exp_id, pid, vid = setup_pipeline(host, tmp_path)
    body = recurring_body(exp_id, pid, vid)
    del body["mode"]
    status, resp, _ = raw(host, "POST", "/apis/v2beta1/recurringruns", body)
    assert status == 200 and resp["mode"] == "DISABLE"  # api_converter.go:2154


@pytest.mark.parametrize(
    ("change", "status", "needle"),
    [
        ({"max_concurrency": "0"}, 400, "Max concurrency"),
        ({"max_concurrency": "11"}, 400, "Max concurrency"),
        ({"trigger": {"cron_schedule": {"cron": "every night"}}}, 400, "not a supported format"),
        ({"trigger": {"cron_schedule": {"cron": "0 3 * * * * *"}}}, 400, "not a supported format"),
        (
            {
                "trigger": {
                    "cron_schedule": {"cron": "0 0 3 * *"},
                    "periodic_schedule": {"interval_second": "60"},
                }
            },
            400,
            "oneof",
        ),
        ({"trigger": {"periodic_schedule": {"interval_second": "0"}}}, 400, "interval"),
        ({"experiment_id": ""}, 400, "Experiment id can not be empty"),
        ({"experiment_id": "nope"}, 404, "not found"),
        (
            {"pipeline_version_reference": {"pipeline_id": "p", "pipeline_version_id": "nope"}},
            500,
            "Internal",
        ),
        ({"display_name": ""}, 500, "Internal"),
    ],
)
def test_recurring_run_negative(
    fake: tuple[str, State], tmp_path: Path, change: dict[str, Any], status: int, needle: str
) -> None:
    host, state = fake
    exp_id, pid, vid = setup_pipeline(host, tmp_path)
    got, body, _ = raw(
        host, "POST", "/apis/v2beta1/recurringruns", recurring_body(exp_id, pid, vid, **change)
    )
    assert got == status and needle in json.dumps(body)
    assert state.recurring == {}


def test_recurring_run_namespace_is_output_only_and_must_match(
    fake: tuple[str, State], tmp_path: Path
) -> None:
    host, state = fake
    exp_id, pid, vid = setup_pipeline(host, tmp_path)
    body = recurring_body(exp_id, pid, vid, namespace="team-ml")
    assert raw(host, "POST", "/apis/v2beta1/recurringruns", body)[0] == 400
    assert any("namespace is output-only" in v for v in state.violations)
    state.strict_schema = False
    body["namespace"] = "team-other"
    status, resp, _ = raw(host, "POST", "/apis/v2beta1/recurringruns", body)
    assert status == 400 and "belongs to namespace" in resp["message"]


def test_recurring_run_other_namespace_is_403(fake: tuple[str, State], tmp_path: Path) -> None:
    host, state = fake
    exp_id, pid, vid = setup_pipeline(host, tmp_path)
    state.users["other-token"] = ("other@example.com", {"team-other"})
    status, body, _ = raw(
        host, "POST", "/apis/v2beta1/recurringruns", recurring_body(exp_id, pid, vid), token="other-token"
    )
    assert status == 403 and body["code"] == 7


def test_runs(fake: tuple[str, State], tmp_path: Path) -> None:
    host, _ = fake
    exp_id, pid, vid = setup_pipeline(host, tmp_path)
    api = k.RunServiceApi(client(host))
    run = api.run_service_create_run(
        k.V2beta1Run(
            display_name="once",
            experiment_id=exp_id,
            pipeline_version_reference=k.V2beta1PipelineVersionReference(
                pipeline_id=pid, pipeline_version_id=vid
            ),
        )
    )
    assert api.run_service_get_run(run.run_id).state == "PENDING"
    assert [r.run_id for r in api.run_service_list_runs(experiment_id=exp_id).runs] == [run.run_id]
    assert raw(host, "POST", "/apis/v2beta1/runs", {"display_name": "x"})[0] == 400


# --- the ScheduledWorkflow controller --------------------------------------------------------


def test_cron_parsing_is_robfig_v1() -> None:
    assert parse_cron("0 0 3 * * *").next(T0) == T0 + 3 * 3600
    # Five fields are seconds-first with the day of week omitted: every hour at minute 3.
    assert parse_cron("0 3 * * *").next(T0) == T0 + 180
    assert parse_cron("@every 90s").next(T0) == T0 + 90
    for bad in ("", "0 0 3", "* * * * * * *", "61 * * * * *", "0 0 0 * * 7"):
        with pytest.raises(ValueError):
            parse_cron(bad)


def test_ticks_catchup_nocatchup_start_and_end() -> None:
    day = 86400
    # start_time in the past: catch-up fires every missed tick since start_time.
    s = Schedule(created=T0, cron="0 0 3 * * *", start=T0 - 3 * day)
    assert s.due(T0) == [T0 - 3 * day + 3 * 3600, T0 - 2 * day + 3 * 3600, T0 - day + 3 * 3600]
    # no_catchup fires only the latest due tick.
    s = Schedule(created=T0, cron="0 0 3 * * *", start=T0 - 3 * day, no_catchup=True)
    assert s.due(T0) == [T0 - day + 3 * 3600]
    # Without start_time, ticks count from creation; end_time stops them.
    s = Schedule(created=T0, cron="0 0 3 * * *", end=T0 + day)
    assert s.due(T0 + 5 * day) == [T0 + 3 * 3600]
    # A disabled SWF never fires; re-enabled with catch-up it fires the missed ticks.
    s = Schedule(created=T0, cron="0 0 3 * * *", enabled=False)
    assert s.due(T0 + 2 * day) == []
    s.enabled = True
    assert s.due(T0 + 2 * day) == [T0 + 3 * 3600, T0 + day + 3 * 3600]
    # Periodic: the first tick is start_time + interval; no_catchup fires once "now".
    assert Schedule(created=T0, interval=60, start=T0 + 30).due(T0 + 100) == [T0 + 90]
    assert Schedule(created=T0, interval=60, no_catchup=True).due(T0 + 600) == [T0 + 600]


def test_controller_runs_with_requests(fake: tuple[str, State], tmp_path: Path) -> None:
    host, state = fake
    clock = state.clock
    assert isinstance(clock, Clock)
    exp_id, pid, vid = setup_pipeline(host, tmp_path)
    start = datetime.fromtimestamp(T0 - 86400, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = recurring_body(
        exp_id, pid, vid, trigger={"cron_schedule": {"cron": "0 0 3 * * *", "start_time": start}}
    )
    status, run, _ = raw(host, "POST", "/apis/v2beta1/recurringruns", body)
    assert status == 200 and state.fired == []
    raw(host, "GET", "/apis/v2beta1/healthz")  # every request first syncs the controller
    assert state.fired == [(run["recurring_run_id"], T0 - 86400 + 3 * 3600)]  # start_time in the past
    raw(host, "POST", f"/apis/v2beta1/recurringruns/{run['recurring_run_id']}:disable")
    clock.now += 3 * 86400
    raw(host, "GET", "/apis/v2beta1/healthz")
    assert len(state.fired) == 1  # disabled: nothing fires
    raw(host, "DELETE", f"/apis/v2beta1/recurringruns/{run['recurring_run_id']}")
    state.sync(clock.now + 86400)
    assert len(state.fired) == 1  # deleted: nothing fires
    ran = k.RunServiceApi(client(host)).run_service_list_runs(experiment_id=exp_id).runs
    assert [r.recurring_run_id for r in ran] == [run["recurring_run_id"]]


# --- faults ----------------------------------------------------------------------------------


def test_lost_response_commits(fake: tuple[str, State], tmp_path: Path) -> None:
    host, state = fake
    state.drop_after_commit.append("/pipelines/upload")
    with pytest.raises(Exception):  # noqa: B017 - urllib3 raises one of several connection errors
        upload(host, tmp_path)
    assert len(state.pipelines) == 1 and state.log[-1].status == -1
    with pytest.raises(ApiException) as err:
        upload(host, tmp_path)
    assert err.value.status == 409  # the retry sees the committed upload


def test_injected_faults_precede_routing(fake: tuple[str, State]) -> None:
    host, state = fake
    state.faults = [503]
    assert raw(host, "GET", "/apis/v2beta1/healthz")[0] == 503
    assert raw(host, "GET", "/apis/v2beta1/healthz")[0] == 200
    assert [r.status for r in state.log] == [503, 200]
