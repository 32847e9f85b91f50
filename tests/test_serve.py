"""``kfops serve``: resolve, render, validate against the KServe CRD, hand-off record, apply.

Model versions are written by the real `store_model` (from a small fitted model and an
evaluation record), to a local store or to S3 on the moto server; the Kubernetes API
is a local stateful stub reached through a real kubeconfig.
"""

from __future__ import annotations

import io
import json
import re
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import joblib
import pytest
import yaml

from components.champion.io import set_champion
from components.model_storage.io import store_model
from components.shared.errors import InputError
from kfops import kserve, manifests
from kfops.cli import main
from kfops.serve import serve
from kfops.serve.handoff import HANDOFF_PREFIX, handoff_key
from kfops.serve.inference_service import validate
from tests.conftest import run_kfops, tree_digest

MODEL = "cancer"
V1 = "20240506-070809-run00001"
V2 = "20240607-080910-run00002"
ISVC_PATH = f"/apis/{kserve.GROUP}/{kserve.VERSION}/namespaces/team-ml/{kserve.PLURAL}"


def _model_dir(root: Path) -> tuple[Path, Path]:
    """A fitted scikit-learn pipeline (``model.joblib``) and an evaluation record with facts."""
    import numpy as np
    import pandas as pd
    import sklearn
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from components.shared.tables import write_parquet

    x = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]])
    model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(x, [0, 1, 0, 1])
    model_dir = root / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_dir / "model.joblib")
    evaluation = root / "evaluation.parquet"
    write_parquet(
        pd.DataFrame({"y_true": [0, 1], "y_pred": [0, 1]}),
        str(evaluation),
        {
            "metrics": {"accuracy": 1.0, "macro_f1": 1.0},
            "test_fingerprint": "sha256:test",
            "model": {
                "data_fingerprint": "sha256:data",
                "estimator": "logistic_regression",
                "sklearn_version": sklearn.__version__,
                "python_version": "3.11",
                "features": ["a", "b"],
                "classes": [0, 1],
            },
        },
    )
    return model_dir, evaluation


def add_version(tmp: Path, store_uri: str, version: str, *, name: str = MODEL, champion: bool = False) -> str:
    """Store a version with `store_model` (optionally make it the champion); return its uri."""
    model_dir, evaluation = _model_dir(tmp / f"train-{version}")
    stored = store_model(
        str(model_dir),
        str(evaluation),
        store_uri,
        name,
        run_id=f"run-{version[-8:]}",
        run_name=f"nightly-{version[-1]}",
        git_commit="abc1234",
        git_ref="main",
        version=version,
    )
    if champion:
        set_champion(store_uri, name, version, action="promote")
    return stored.uri


@pytest.fixture
def local_store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    root.mkdir()
    add_version(tmp_path, str(root), V1, champion=True)
    add_version(tmp_path, str(root), V2)
    return root


@pytest.fixture
def s3_store(tmp_path: Path, s3_bucket: str) -> str:
    uri = f"s3://{s3_bucket}"
    add_version(tmp_path, uri, V1, champion=True)
    add_version(tmp_path, uri, V2)
    return uri


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["serve", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if not line.startswith("note:")]


# --- render and validate -----------------------------------------------------------------


def test_rendered_inference_service_validates_against_the_kserve_crd(local_store: Path) -> None:
    result = serve(MODEL, store_uri=str(local_store), namespace="team-ml", dry_run=True)
    obj = result.obj
    assert manifests.validate_object(obj) == []
    assert (obj["apiVersion"], obj["kind"]) == ("serving.kserve.io/v1beta1", "InferenceService")
    assert obj["metadata"]["name"] == MODEL and obj["metadata"]["namespace"] == "team-ml"
    assert obj["metadata"]["labels"] == {
        "app.kubernetes.io/name": MODEL,
        "app.kubernetes.io/managed-by": "kfops",
        "app.kubernetes.io/part-of": "kfops",
        "app.kubernetes.io/version": V1,
    }
    annotations = obj["metadata"]["annotations"]
    assert annotations["kfops.io/model-version"] == V1
    assert annotations["kfops.io/git-commit"] == "abc1234"
    assert annotations["kfops.io/training-run-id"] == f"run-{V1[-8:]}"
    predictor = obj["spec"]["predictor"]
    assert predictor["serviceAccountName"] == kserve.SERVICE_ACCOUNT
    model = predictor["model"]
    assert model["modelFormat"] == {"name": "sklearn"}
    assert set(model["resources"]) == {"requests", "limits"}
    assert "runtimeVersion" not in model
    # storageUri is the version's folder; KServe's sklearn server loads its one model file, model.joblib
    assert model["storageUri"] == result.metadata["uri"]
    folder = Path(model["storageUri"])
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json", "model.joblib"]
    assert joblib.load(folder / "model.joblib").predict([[0.0, 1.0]]).tolist() == [0]


def test_s3_store_gives_an_s3_storage_uri_with_model_joblib_under_it(s3_store: str, s3_bucket: str) -> None:
    import boto3

    obj = serve(f"{MODEL}:{V2}", store_uri=s3_store, namespace="team-ml", dry_run=True).obj
    uri = obj["spec"]["predictor"]["model"]["storageUri"]
    assert uri == f"s3://{s3_bucket}/models/{MODEL}/{V2}/"
    listed = boto3.client("s3").list_objects_v2(Bucket=s3_bucket, Prefix=f"models/{MODEL}/{V2}/")
    assert sorted(o["Key"].rsplit("/", 1)[1] for o in listed["Contents"]) == ["metadata.json", "model.joblib"]
    assert manifests.validate_object(obj) == []


def test_service_account_is_the_one_infra_annotates_with_the_kserve_irsa_role(local_store: Path) -> None:
    from infra import kubernetes_objects as k

    obj = serve(MODEL, store_uri=str(local_store), namespace="team-ml", dry_run=True).obj
    accounts = {
        o["metadata"]["name"]: o["metadata"].get("annotations", {})
        for o in manifests.overlay_objects("aws")
        if o["kind"] == "ServiceAccount"
    }
    name = obj["spec"]["predictor"]["serviceAccountName"]
    assert re.search(
        r":role/kfops-[a-z0-9]+-kserve-", accounts[name]["eks.amazonaws.com/role-arn"]
    )  # kfops-<stack>-kserve-<ns>
    assert k.ProfileValues("ns", "s3://b/pipelines").kserve_service_account == name


@pytest.mark.parametrize(
    ("path", "typo"),
    [
        (("spec", "predictor", "model"), "storageURI"),
        (("spec", "predictor"), "serviceAccount_name"),
        (("spec",), "predictors"),
    ],
)
def test_validation_rejects_a_misspelled_field(local_store: Path, path: tuple[str, ...], typo: str) -> None:
    obj = serve(MODEL, store_uri=str(local_store), namespace="team-ml", dry_run=True).obj
    target = obj
    for key in path:
        target = target[key]
    target[typo] = "x"
    problems = manifests.validate_object(obj)
    assert problems and typo in problems[0]
    with pytest.raises(InputError, match=typo):
        validate(obj)


def test_runtime_version_and_name_are_rendered(local_store: Path) -> None:
    obj = serve(
        MODEL,
        store_uri=str(local_store),
        namespace="team-ml",
        name="cancer-canary",
        runtime_version="v0.14.1",
        dry_run=True,
    ).obj
    assert obj["metadata"]["name"] == "cancer-canary"
    assert obj["spec"]["predictor"]["model"]["runtimeVersion"] == "v0.14.1"
    assert manifests.validate_object(obj) == []


# --- resolution ---------------------------------------------------------------------------


def test_no_version_serves_the_champion_and_a_version_serves_that_version(local_store: Path) -> None:
    champion = serve(MODEL, store_uri=str(local_store), namespace="team-ml", dry_run=True)
    assert (champion.metadata["version"], champion.resolved_from) == (V1, "champion")
    explicit = serve(f"{MODEL}:{V2}", store_uri=str(local_store), namespace="team-ml", dry_run=True)
    assert (explicit.metadata["version"], explicit.resolved_from) == (V2, "version")
    assert explicit.obj["spec"]["predictor"]["model"]["storageUri"].rstrip("/").endswith(f"/{V2}")


@pytest.mark.parametrize("dry_run", [True, False])
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["other"], "model 'other' has no champion"),
        ([f"{MODEL}:20990101-000000-nope"], "has no version '20990101-000000-nope'"),
        (["Bad_Name"], "invalid model name 'Bad_Name'"),
        ([MODEL, "--name", "9lives"], "invalid InferenceService name '9lives'"),
        ([MODEL, "--namespace", "Team_ML"], "invalid namespace 'Team_ML'"),
    ],
)
def test_bad_input_exits_2_with_one_error_line_and_writes_nothing(
    local_store: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str, dry_run: bool
) -> None:
    before = tree_digest(local_store)
    extra = ["--dry-run"] if dry_run else []
    if "--namespace" not in args:
        extra += ["--namespace", "team-ml"]
    code, out, err = _cli(capsys, *args, "--store", str(local_store), *extra)
    assert code == 2
    (line,) = _errors(err)
    assert line.startswith("error: ") and message in line
    assert out == ""
    assert tree_digest(local_store) == before


def test_a_model_folder_with_two_model_files_is_refused(local_store: Path) -> None:
    (local_store / "models" / MODEL / V1 / "extra.pkl").write_bytes(b"x")
    with pytest.raises(InputError, match="exactly one model file"):
        serve(MODEL, store_uri=str(local_store), namespace="team-ml", dry_run=True)


# --- the Kubernetes API stub --------------------------------------------------------------


class _KubeApi(BaseHTTPRequestHandler):
    """A stateful stand-in for the API server's InferenceService endpoints (and /version)."""

    objects: ClassVar[dict[str, dict[str, Any]]] = {}
    calls: ClassVar[list[tuple[str, str]]] = []
    bodies: ClassVar[list[dict[str, Any]]] = []
    on_create: ClassVar[Any] = None

    def log_message(self, *args: object) -> None:
        pass

    def _body(self) -> dict[str, Any]:
        data = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).bodies.append(json.loads(data))  # as sent
        return dict(json.loads(data))

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _status(self, code: int, reason: str) -> None:
        self._send(code, {"kind": "Status", "status": "Failure", "reason": reason, "code": code})

    def do_GET(self) -> None:
        type(self).calls.append(("GET", self.path.rstrip("/")))  # the client asks for /version/
        if self.path.rstrip("/") == "/version":
            return self._send(200, {"major": "1", "minor": "33", "gitVersion": "v1.33.0"})
        name = self.path.removeprefix(ISVC_PATH + "/")
        if name in type(self).objects:
            return self._send(200, type(self).objects[name])
        self._status(404, "NotFound")

    def do_POST(self) -> None:
        type(self).calls.append(("POST", self.path))
        body = self._body()
        if type(self).on_create:
            type(self).on_create(body)
        name = body["metadata"]["name"]
        if self.path != ISVC_PATH:
            return self._status(404, "NotFound")
        if name in type(self).objects:
            return self._status(409, "AlreadyExists")
        body["metadata"]["resourceVersion"] = "1"
        type(self).objects[name] = body
        self._send(201, body)

    def do_PUT(self) -> None:
        type(self).calls.append(("PUT", self.path))
        body = self._body()
        name = self.path.removeprefix(ISVC_PATH + "/")
        current = type(self).objects.get(name)
        if current is None:
            return self._status(404, "NotFound")
        if body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            return self._status(409, "Conflict")
        body["metadata"]["resourceVersion"] = str(int(current["metadata"]["resourceVersion"]) + 1)
        type(self).objects[name] = body
        self._send(200, body)


def _kubeconfig(path: Path, server: str) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "stub", "cluster": {"server": server}}],
                "users": [{"name": "me", "user": {"token": "t0ken"}}],
                "contexts": [{"name": "stub", "context": {"cluster": "stub", "user": "me"}}],
                "current-context": "stub",
            }
        )
    )
    return path


@pytest.fixture
def kube_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    _KubeApi.objects, _KubeApi.calls, _KubeApi.bodies, _KubeApi.on_create = {}, [], [], None
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KubeApi)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig(tmp_path / "kubeconfig", url)))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    yield url
    server.shutdown()


def _handoffs(bucket: str) -> list[str]:
    import boto3

    listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"{HANDOFF_PREFIX}/")
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_serve_writes_the_handoff_record_then_creates_then_replaces(
    s3_store: str, s3_bucket: str, kube_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seen_at_create: list[list[str]] = []
    _KubeApi.on_create = lambda body: seen_at_create.append(_handoffs(s3_bucket))

    code, out, err = _cli(capsys, MODEL, "--store", s3_store, "--namespace", "team-ml", "--context", "stub")
    assert (code, _errors(err)) == (0, [])
    assert out.startswith(f"created InferenceService team-ml/{MODEL}: model {MODEL} version {V1} (champion)")
    assert [c[0] for c in _KubeApi.calls] == ["GET", "POST"]  # /version, then create
    assert _KubeApi.calls[1][1] == ISVC_PATH
    (first,) = _handoffs(s3_bucket)
    assert seen_at_create == [[first]]  # the record existed before the object was created
    assert first.startswith(f"{HANDOFF_PREFIX}/") and first.endswith(f"-{MODEL}-{V1}.json")
    assert f"hand-off record s3://{s3_bucket}/{first}" in out

    import boto3

    record = json.loads(boto3.client("s3").get_object(Bucket=s3_bucket, Key=first)["Body"].read())
    created = _KubeApi.bodies[0]
    assert record["inference_service"] == created
    assert manifests.validate_object(created) == []
    assert record["model_uri"] == f"s3://{s3_bucket}/models/{MODEL}/{V1}/"
    assert created["spec"]["predictor"]["model"]["storageUri"] == record["model_uri"]
    assert (record["version"], record["resolved_from"]) == (V1, "champion")
    assert record["metrics"] == {"accuracy": 1.0, "macro_f1": 1.0}
    assert record["data_fingerprint"] == "sha256:data"
    assert (record["run_id"], record["run_name"]) == (f"run-{V1[-8:]}", "nightly-1")
    assert (record["git_commit"], record["git_ref"]) == ("abc1234", "main")
    assert record["actor"] == "octocat"
    assert datetime.fromisoformat(record["handed_off_at"]).tzinfo is not None
    assert record["target"] == {"context": "stub", "namespace": "team-ml", "name": MODEL}
    assert set(record["served_from"]) == {"git_commit", "git_ref"}

    # Serving another version: create answers 409, so read the object and replace it.
    existing = _KubeApi.objects[MODEL]["metadata"]
    existing["annotations"]["kfops.io/stale-fact"] = "from the previous version"  # kfops' own: dropped
    existing["annotations"]["team.example/owner"] = "ml"  # someone else's: kept
    _KubeApi.calls.clear()
    code, out, err = _cli(capsys, f"{MODEL}:{V2}", "--store", s3_store, "--namespace", "team-ml")
    assert (code, _errors(err)) == (0, [])
    assert out.startswith(f"replaced InferenceService team-ml/{MODEL}: model {MODEL} version {V2} (version)")
    assert _KubeApi.calls == [
        ("GET", "/version"),
        ("POST", ISVC_PATH),
        ("GET", f"{ISVC_PATH}/{MODEL}"),
        ("PUT", f"{ISVC_PATH}/{MODEL}"),
    ]
    replaced = _KubeApi.bodies[-1]
    assert replaced["metadata"]["resourceVersion"] == "1"
    assert _KubeApi.objects[MODEL]["metadata"]["resourceVersion"] == "2"
    assert replaced["spec"]["predictor"]["model"]["storageUri"].endswith(f"/{V2}/")
    assert replaced["metadata"]["labels"]["app.kubernetes.io/version"] == V2
    assert "kfops.io/stale-fact" not in replaced["metadata"]["annotations"]
    assert replaced["metadata"]["annotations"]["team.example/owner"] == "ml"
    assert len(_handoffs(s3_bucket)) == 2


def test_an_inference_service_kfops_does_not_manage_is_not_replaced(
    s3_store: str, s3_bucket: str, kube_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _KubeApi.objects[MODEL] = {"metadata": {"name": MODEL, "resourceVersion": "7", "labels": {}}}
    code, _, err = _cli(capsys, MODEL, "--store", s3_store, "--namespace", "team-ml")
    assert code == 1
    (line,) = _errors(err)
    assert "not managed by kfops" in line and "hand-off record" in line
    assert [c[0] for c in _KubeApi.calls] == ["GET", "POST", "GET"]


def test_a_local_store_is_refused_without_dry_run(
    local_store: Path, kube_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree_digest(local_store)
    code, out, err = _cli(capsys, MODEL, "--store", str(local_store), "--namespace", "team-ml")
    assert code == 2 and out == ""
    (line,) = _errors(err)
    assert "is a local directory" in line and "cannot read a path on this machine" in line
    assert "--dry-run" in line
    assert tree_digest(local_store) == before
    assert _KubeApi.calls == []


@pytest.mark.parametrize("kubeconfig", ["missing", "unreachable"])
def test_no_reachable_cluster_exits_1_and_writes_nothing(
    s3_store: str,
    s3_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kubeconfig: str,
) -> None:
    path = tmp_path / "kubeconfig"
    if kubeconfig == "unreachable":
        _kubeconfig(path, "http://127.0.0.1:9")
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    code, out, err = _cli(capsys, MODEL, "--store", s3_store, "--namespace", "team-ml")
    assert code == 1 and out == ""
    (line,) = _errors(err)
    expected = "cannot reach the Kubernetes API" if kubeconfig == "unreachable" else "no Kubernetes cluster"
    assert line.startswith("error: ") and expected in line
    assert _handoffs(s3_bucket) == []


def test_handoff_keys_sort_by_time_and_name_model_and_version() -> None:
    early = handoff_key(datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC), MODEL, V1)
    later = handoff_key(datetime(2025, 1, 2, 3, 4, 5, 7, tzinfo=UTC), MODEL, V1)
    assert early == f"{HANDOFF_PREFIX}/20250102T030405.000006Z-{MODEL}-{V1}.json"
    assert early < later


# --- through the command line -------------------------------------------------------------


def test_cli_dry_run_prints_a_valid_inference_service_and_writes_nothing(
    local_store: Path, tmp_path: Path
) -> None:
    before = tree_digest(local_store)
    env = {"KUBECONFIG": str(tmp_path / "none"), "KFOPS_HOME": str(tmp_path / "home")}
    result = run_kfops(
        "serve", MODEL, "--store", str(local_store), "--namespace", "team-ml", "--dry-run", env=env
    )
    assert result.returncode == 0, result.stderr
    (obj,) = [d for d in yaml.safe_load_all(io.StringIO(result.stdout)) if d]
    assert obj["kind"] == "InferenceService" and obj["metadata"]["labels"]["app.kubernetes.io/version"] == V1
    assert manifests.validate_object(obj) == []
    assert "scikit-learn" in result.stderr and "--runtime-version" in result.stderr
    assert "KServe cannot load" in result.stderr  # a local store renders a local storageUri
    assert tree_digest(local_store) == before
    assert not (tmp_path / "home").exists()


def test_namespace_defaults_to_the_kubeconfig_context(
    local_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _kubeconfig(tmp_path / "kubeconfig", "http://127.0.0.1:9")
    config = yaml.safe_load(path.read_text())
    config["contexts"][0]["context"]["namespace"] = "team-ml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("KUBECONFIG", str(path))
    obj = serve(MODEL, store_uri=str(local_store), dry_run=True).obj
    assert obj["metadata"]["namespace"] == "team-ml"
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    with pytest.raises(InputError, match="no namespace: pass --namespace"):
        serve(MODEL, store_uri=str(local_store), dry_run=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
