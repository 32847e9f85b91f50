"""Regression through the components: task rule, estimators, metrics, champion, monitoring, batch.

The data are scikit-learn's bundled diabetes set (442 rows, a continuous target with
214 distinct values), written to a CSV at test time: no download.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes

from components.batch_predict.core import PREDICTION, predict_batch, prediction_summary
from components.champion.core import challenge, parse_rules
from components.champion.io import run_champion
from components.evaluate.core import ID, Y_PRED, Y_TRUE, evaluate_model, regression_metrics
from components.ingest.core import validate_dataset
from components.model_storage.io import store_model
from components.monitoring.core import MonitorSettings, floor, is_below, resolve_metric
from components.monitoring.io import run_monitoring
from components.preprocess.core import fit_preprocessing, parse_steps
from components.shared.artifacts import load_model_dir
from components.shared.errors import InputError
from components.shared.tables import read_parquet
from components.shared.tasks import MAX_AUTO_CLASSES, check_task, infer_task
from components.split.core import split_frame
from components.train.core import check_estimator_name, train_model

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def diabetes_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("diabetes") / "diabetes.csv"
    load_diabetes(as_frame=True).frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def regression_store(
    tmp_path_factory: pytest.TempPathFactory, chain: Callable[..., dict[str, Path]], diabetes_csv: Path
) -> tuple[str, dict[str, Path]]:
    """A ridge model of diabetes stored as version v1 and made champion."""
    base = tmp_path_factory.mktemp("regression")
    paths = chain(base / "run", source=str(diabetes_csv), estimator="auto")
    store = base / "store"
    store.mkdir()
    store_model(str(paths["model"]), str(paths["evaluation"]), str(store), "d", version="v1", now=T0)
    run_champion(str(store), "d", "v1", str(paths["evaluation"]), str(paths["test"]), now=T0)
    return str(store), paths


# --- the task rule -----------------------------------------------------------------------------------


def test_auto_regresses_many_valued_numbers_and_classifies_the_rest() -> None:
    diabetes = load_diabetes().target  # integer-valued floats, 214 distinct
    assert infer_task(diabetes) == "regression"
    assert infer_task(np.arange(MAX_AUTO_CLASSES) % MAX_AUTO_CLASSES) == "classification"
    assert infer_task(np.arange(MAX_AUTO_CLASSES + 1)) == "regression"
    assert infer_task(np.array(["a", "b"] * 50, dtype=object)) == "classification"
    assert infer_task(np.array([True, False] * 50)) == "classification"
    assert infer_task(np.array([0.5, 1.5, 2.5] * 10)) == "classification"  # few values: classes by rule


@pytest.mark.parametrize(
    ("task", "labels", "message"),
    [
        ("classification", [0.25, 1.5, 3.0, 4.75], "'y' is continuous .* e.g. 0.25.*cannot be a class"),
        ("auto", [0.5, 1.5, 2.5, 0.5], "'y' is continuous"),  # auto classifies few values: still no classes
        ("regression", ["a", "b", "c", "a"], "needs a numeric label; 'y' holds text"),
        ("regresion", [1.0, 2.0], "unknown task 'regresion'"),
    ],
)
def test_impossible_tasks_are_refused(task: str, labels: list[object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_task(task, np.asarray(labels), "y")


def test_an_explicit_task_overrides_the_rule() -> None:
    assert check_task("regression", np.array([0, 1, 2, 1, 0])) == "regression"
    assert check_task("classification", load_diabetes().target) == "classification"  # asked for: 214 classes


def test_ingest_records_the_task_and_no_classes_for_regression(diabetes_csv: Path) -> None:
    frame, schema = validate_dataset(pd.read_csv(diabetes_csv), "target")
    assert schema.task == "regression" and schema.classes == ()
    assert frame["target"].dtype == "float64"


def test_a_regression_split_is_random_not_stratified(diabetes_csv: Path) -> None:
    frame, _ = validate_dataset(pd.read_csv(diabetes_csv), "target")
    train, test, info = split_frame(frame, "target", test_size=0.25, seed=1, stratify=True, regression=True)
    assert not info.stratified and len(test) == round(len(frame) * 0.25) and len(train) + len(test) == 442


# --- estimators ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prepared(diabetes_csv: Path) -> tuple[pd.DataFrame, object]:
    frame, schema = validate_dataset(pd.read_csv(diabetes_csv), "target")
    prep = fit_preprocessing(frame, schema, parse_steps("standard_scale"))
    return frame, prep


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("auto", "Ridge"),
        ("linear_regression", "LinearRegression"),
        ("ridge", "Ridge"),
        ("random_forest", "RandomForestRegressor"),
        ("gradient_boosting", "HistGradientBoostingRegressor"),
        ("sklearn.svm.SVR", "SVR"),
    ],
)
def test_each_regression_estimator_trains_and_beats_the_mean(
    name: str, cls: str, prepared: tuple[pd.DataFrame, object]
) -> None:
    frame, prep = prepared
    hyper = {"n_estimators": 20} if name == "random_forest" else {"C": 100.0} if "SVR" in name else {}
    trained = train_model(prep.prepared, "target", prep.transformer, name, hyper, 0, "regression")
    assert trained.metadata["task"] == "regression" and trained.metadata["classes"] == []
    assert trained.metadata["estimator_class"].endswith(f".{cls}")
    predicted = trained.model.predict(frame.drop(columns="target"))
    assert regression_metrics(frame["target"].to_numpy(), predicted)["r2"] > 0.3


@pytest.mark.parametrize("name", ["logistic_regression", "sklearn.svm.SVC"])
def test_a_classifier_on_a_continuous_target_is_refused(
    name: str, prepared: tuple[pd.DataFrame, object]
) -> None:
    _, prep = prepared
    with pytest.raises(InputError, match="regression target"):
        train_model(prep.prepared, "target", prep.transformer, name, {}, 0, "regression")


def test_a_regressor_on_class_labels_is_refused(prepared: tuple[pd.DataFrame, object]) -> None:
    frame, prep = prepared
    labels = prep.prepared.assign(target=(prep.prepared["target"] > 140).astype(int))
    with pytest.raises(InputError, match="ridge is a regression estimator but the label is a classification"):
        train_model(labels, "target", prep.transformer, "ridge", {}, 0, "classification")
    trained = train_model(labels, "target", prep.transformer, "sklearn.svm.SVC", {}, 0, "classification")
    assert trained.model.predict_proba(frame.drop(columns="target").head(3)).shape == (3, 2)
    assert trained.metadata["estimator_class"] == "sklearn.svm._classes.SVC"
    assert trained.metadata["probabilities"].startswith("calibrated")  # SVC has no predict_proba


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("os.system", "'os.system' is not allowed: import paths must lie in sklearn"),
        ("sklearnx.svm.SVC", "not allowed"),  # a prefix is a module, not a string prefix
        ("sklearn.svm.", "not an import path"),
        ("svm", "unknown estimator 'svm'"),
    ],
)
def test_estimator_names_are_checked_before_any_import(name: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_estimator_name(name, ("sklearn",))
    assert check_estimator_name("xgboost.XGBRegressor", ("sklearn", "xgboost")) == "xgboost.XGBRegressor"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("sklearn.svm.Nope", "sklearn.svm has no Nope"),
        ("sklearn.nope.SVC", "cannot import sklearn.nope"),
        ("sklearn.base.clone", "not a scikit-learn estimator class"),
        ("sklearn.preprocessing.StandardScaler", "not a classifier or regressor"),
    ],
)
def test_bad_import_paths_are_clear(name: str, message: str, prepared: tuple[pd.DataFrame, object]) -> None:
    _, prep = prepared
    with pytest.raises(InputError, match=message):
        train_model(prep.prepared, "target", prep.transformer, name, {}, 0, "regression")


# --- evaluate, champion, monitoring, batch prediction ---------------------------------------------------


def test_regression_metrics_match_hand_computation() -> None:
    truth, predicted = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 3.0, 2.0])
    metrics = regression_metrics(truth, predicted)
    assert metrics["rmse"] == pytest.approx(np.sqrt(5 / 4))
    assert metrics["mae"] == pytest.approx(0.75)
    assert metrics["r2"] == pytest.approx(1 - 5 / 5)


def test_the_evaluation_record_holds_numbers_and_the_task(
    regression_store: tuple[str, dict[str, Path]],
) -> None:
    _, paths = regression_store
    record, facts = read_parquet(str(paths["evaluation"]))
    assert facts["task"] == "regression" and facts["classes"] == []
    assert list(record.columns) == [ID, Y_TRUE, Y_PRED]
    assert record[Y_PRED].dtype == "float64" and set(facts["metrics"]) == {"rmse", "mae", "r2"}


def test_champion_judges_a_regressor_by_rmse(regression_store: tuple[str, dict[str, Path]]) -> None:
    store, paths = regression_store
    assert json.loads(Path(store, "models/d/champion.json").read_text())["version"] == "v1"
    record, _ = read_parquet(str(paths["evaluation"]))
    errors = record[Y_PRED] - record[Y_TRUE]
    worse = record.assign(**{Y_PRED: record[Y_TRUE] + 1.6 * errors})  # RMSE 60% worse
    refused = challenge(record, worse, [], [], parse_rules(""), "regression")
    assert not refused.promote and refused.reason.startswith("rmse regressed")
    assert [d.metric for d in refused.decisions] == ["rmse"]  # accuracy applies to classifiers only
    kept = challenge(record, record, [], [], parse_rules('[{"metric": "accuracy"}]'), "regression")
    assert kept.promote and [d.metric for d in kept.decisions] == ["rmse"]  # no regression rule given


def test_monitoring_watches_rmse_under_a_ceiling(
    regression_store: tuple[str, dict[str, Path]], diabetes_csv: Path, tmp_path: Path
) -> None:
    store, _ = regression_store
    settings = MonitorSettings(tolerance=5.0, windows_below=1, window_count=1, cooldown_hours=0)
    assert resolve_metric(settings, "regression").metric == "rmse"
    with pytest.raises(InputError, match="'accuracy' does not apply to a regression model"):
        resolve_metric(MonitorSettings(metric="accuracy"), "regression")
    rule = resolve_metric(settings, "regression")
    assert floor(rule, 50.0) == 55.0 and is_below(rule, 56.0, 55.0) and not is_below(rule, 54.0, 55.0)
    frame = pd.read_csv(diabetes_csv)
    calm = run_monitoring(store, "d", str(diabetes_csv), settings, as_of=T0.isoformat())
    noisy = tmp_path / "noisy.csv"
    frame.assign(target=frame["target"] + np.random.default_rng(0).normal(0, 60, len(frame))).to_csv(noisy)
    later = (T0 + timedelta(days=1)).isoformat()
    worse = run_monitoring(store, "d", str(noisy), settings, as_of=later)
    assert calm["metric"] == "rmse" and not calm["higher_is_better"] and not calm["below"]
    assert worse["value"] > worse["floor"] and worse["below"] and worse["decision"]["retrain"]


def test_batch_prediction_of_a_regressor_is_numbers(regression_store: tuple[str, dict[str, Path]]) -> None:
    store, _ = regression_store
    model, metadata = load_model_dir(f"{store}/models/d/v1")
    frame = load_diabetes(as_frame=True).frame.head(10)
    out = predict_batch(model, frame.drop(columns="target"), metadata)
    assert list(out.columns) == ["row", PREDICTION] and out[PREDICTION].dtype == "float64"
    assert prediction_summary(out)["count"] == 10
    np.testing.assert_allclose(out[PREDICTION], evaluate_model(model, frame, metadata["features"], "target")
                               .record[Y_PRED])  # fmt: skip
