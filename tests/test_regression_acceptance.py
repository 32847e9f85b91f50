"""Acceptance (issue 15): a new user's regression and classification data train, gate and serve.

The data are scikit-learn's bundled copies, written at test time (no download):
diabetes (442 rows, a continuous target: regression) and digits (1,797 rows, 10
classes, trained with an estimator named by import path, ``sklearn.svm.SVC``). Each
dataset costs one local pipeline run (``kfops gate --run training``, both at once);
everything else reads what those runs stored.
"""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from sklearn.datasets import load_diabetes, load_digits

from tests.conftest import run_kfops

DATASETS = {
    # name: (frame, extra training parameters)
    "diabetes": (lambda: load_diabetes(as_frame=True).frame, []),
    "digits": (lambda: load_digits(as_frame=True).frame, ["--param", "estimator=sklearn.svm.SVC"]),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("acceptance")
    store = root / "store"
    store.mkdir()
    env = {"KFOPS_HOME": str(root / "home")}

    def train_and_gate(name: str) -> subprocess.CompletedProcess[str]:
        make, extra = DATASETS[name]
        frame = make()
        # as a new user has it: digits has all-blank pixel columns (drop_constant handles them)
        source = root / f"{name}.csv"
        frame.to_csv(source, index=False)
        return run_kfops(
            "gate", "--run", "training", "--baseline", "main", "--store", str(store),
            "--report-dir", str(root / f"gate-{name}"),
            "--param", f"source={source}", "--param", f"model_name={name}", "--param", "promote=true",
            *extra,
            env=env, timeout=300,
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=2) as pool:
        results: dict[str, object] = dict(zip(DATASETS, pool.map(train_and_gate, DATASETS), strict=True))

    def promote_and_gate_again() -> tuple[subprocess.CompletedProcess[str], ...]:
        promoted = run_kfops(
            "baseline", "promote", "--from-report", str(root / "gate-diabetes" / "gate.json"),
            "--store", str(store), env=env,
        )  # fmt: skip
        records = [json.loads(p.read_text()) for p in (store / "metrics/training/runs").glob("*.json")]
        candidate = next(r["evaluation_uri"] for r in records if r["model_name"] == "diabetes")
        gated = run_kfops(
            "gate", "--candidate", candidate, "--baseline", "main", "--store", str(store),
            "--report-dir", str(root / "gate-again"), env=env,
        )  # fmt: skip
        return promoted, gated

    later = {
        "serve-diabetes": ("serve", "diabetes", "--store", str(store), "--namespace", "team-ml", "--dry-run"),
        "serve-digits": ("serve", "digits", "--store", str(store), "--namespace", "team-ml", "--dry-run"),
        "refused": ("run", "training", "--store", str(store), "--param", "estimator=os.system"),
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        again = pool.submit(promote_and_gate_again)
        results.update(zip(later, pool.map(lambda a: run_kfops(*a, env=env), later.values()), strict=True))
        results["promoted"], results["gated"] = again.result()
    return {"root": root, "store": store, **results}


def _out(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


def test_diabetes_is_trained_as_regression_not_as_214_classes(runs: dict) -> None:
    result = runs["diabetes"]
    assert result.returncode == 0, _out(result)
    assert "metrics  rmse" in result.stdout and "accuracy" not in result.stdout
    meta = json.loads(next((runs["store"] / "models" / "diabetes").glob("*/metadata.json")).read_text())
    assert meta["task"] == "regression" and meta["classes"] == []
    assert meta["estimator_class"] == "sklearn.linear_model._ridge.Ridge"  # estimator=auto
    assert 0.3 < meta["metrics"]["r2"] < 0.7 and meta["metrics"]["rmse"] < 70  # the target's sd is 77
    gate = json.loads((runs["root"] / "gate-diabetes" / "gate.json").read_text())
    assert gate["verdict"] == "no-baseline" and gate["exit_code"] == 0


def test_digits_is_classified_with_an_estimator_named_by_import_path(runs: dict) -> None:
    result = runs["digits"]
    assert result.returncode == 0, _out(result)
    meta = json.loads(next((runs["store"] / "models" / "digits").glob("*/metadata.json")).read_text())
    assert meta["task"] == "classification" and meta["classes"] == [str(i) for i in range(10)]
    assert meta["estimator_class"] == "sklearn.svm._classes.SVC" and meta["metrics"]["accuracy"] > 0.95


def test_a_promoted_regression_baseline_gates_the_next_candidate(runs: dict) -> None:
    promoted, gated = runs["promoted"], runs["gated"]
    assert promoted.returncode == 0 and "(rmse " in promoted.stdout, _out(promoted)
    assert gated.returncode == 0, _out(gated)
    verdict = json.loads((runs["root"] / "gate-again" / "gate.json").read_text())
    assert verdict["verdict"] == "pass" and verdict["metrics"][0]["metric"] == "rmse"


@pytest.mark.parametrize(("name", "task"), [("diabetes", "regression"), ("digits", "classification")])
def test_the_champion_is_served_with_a_valid_inference_service(runs: dict, name: str, task: str) -> None:
    served = runs[f"serve-{name}"]
    assert served.returncode == 0, _out(served)
    obj = yaml.safe_load(served.stdout)
    assert obj["kind"] == "InferenceService" and obj["metadata"]["annotations"]["kfops.io/task"] == task
    model = obj["spec"]["predictor"]["model"]
    assert model["modelFormat"] == {"name": "sklearn"} and model["storageUri"].endswith("/")
    assert (Path(model["storageUri"]) / "model.joblib").is_file()


def test_a_disallowed_estimator_is_refused_before_the_pipeline_starts(runs: dict) -> None:
    refused = runs["refused"]
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "error: estimator 'os.system' is not allowed: import paths must lie in sklearn "
        "([tool.kfops.estimators] modules in pyproject.toml)"
    ]
    assert "Running pipeline" not in refused.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"task": "regresion"}, "--param task: unknown task 'regresion'"),
        ({"estimator": "subprocess.Popen"}, "'subprocess.Popen' is not allowed"),
        ({"estimator": "svm"}, "unknown estimator 'svm'"),
    ],
)
def test_training_parameters_are_checked_up_front(args: dict[str, str], message: str) -> None:
    from components.shared.errors import InputError
    from kfops.estimators import check_training_args

    with pytest.raises(InputError, match=message):
        check_training_args(args)
    check_training_args({"task": "Regression", "estimator": "sklearn.linear_model.Lasso"})  # accepted


def test_serve_refuses_an_estimator_kserves_sklearn_server_cannot_load() -> None:
    from components.shared.errors import InputError
    from kfops.serve.inference_service import check_runtime_can_load

    check_runtime_can_load({"estimator_class": "sklearn.svm._classes.SVR"})
    check_runtime_can_load({})  # versions stored before the estimator class was recorded
    with pytest.raises(InputError, match=r"uses xgboost\.sklearn\.XGBRegressor, which KServe"):
        check_runtime_can_load({"estimator_class": "xgboost.sklearn.XGBRegressor", "version": "v1"})


def test_metrics_list_shows_each_tasks_gated_metric() -> None:
    from kfops.report import format_metrics, records_table

    table = records_table([{"metrics": {"rmse": 57.3, "mae": 48.0}}, {"metrics": {"accuracy": 0.98}}])
    assert "rmse 57.3000" in table and "accuracy 0.9800" in table and "None" not in table
    assert format_metrics({"r2": 0.4, "mae": 48.0, "rmse": 57.3}) == "rmse 57.3000  mae 48.0000  r2 0.4000"


def test_the_compiled_pipeline_carries_the_allow_list_as_a_constant_not_a_parameter() -> None:
    from components.images import estimator_modules
    from kfops.params import pipeline_parameters
    from pipelines.training import training

    declared = pipeline_parameters(training)
    assert "allowed_estimators" not in declared  # a run cannot widen it
    assert declared["task"] == ("String", "auto") and declared["estimator"] == ("String", "auto")
    train = training.pipeline_spec.root.dag.tasks["train"]
    constant = train.inputs.parameters["allowed_estimators"].runtime_value.constant
    assert constant.string_value == ",".join(estimator_modules()) == "sklearn"
