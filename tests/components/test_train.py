"""Tests of `train`: estimators, hyperparameters, input checks, metadata and the saved model."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import sklearn

from components.ingest.core import synthetic_dataset, validate_dataset
from components.preprocess.core import Preprocessing, fit_preprocessing, parse_steps
from components.shared.errors import InputError
from components.shared.schema import DatasetSchema
from components.shared.tasks import CLASSIFICATION
from components.train.core import ESTIMATORS, build_estimator, parse_hyperparameters, train_model
from components.train.io import run_train


@pytest.fixture(scope="module")
def small() -> tuple[pd.DataFrame, DatasetSchema, Preprocessing]:
    frame, schema = validate_dataset(synthetic_dataset(80, 4, seed=2), "target")
    return frame, schema, fit_preprocessing(frame, schema, parse_steps("impute_median,standard_scale"))


@pytest.fixture(scope="module")
def chain_dir(
    tmp_path_factory: pytest.TempPathFactory, chain: Callable[..., dict[str, Path]]
) -> dict[str, Path]:
    return chain(tmp_path_factory.mktemp("train-chain"))


# --- estimators --------------------------------------------------------------------------------------


def test_estimator_registry_names() -> None:
    assert set(ESTIMATORS) == {
        "logistic_regression", "linear_regression", "ridge", "random_forest", "gradient_boosting"
    }  # fmt: skip
    assert sorted(n for n, s in ESTIMATORS.items() if CLASSIFICATION in s) == [
        "gradient_boosting", "logistic_regression", "random_forest"
    ]  # fmt: skip


@pytest.mark.parametrize("name", sorted(n for n, s in ESTIMATORS.items() if CLASSIFICATION in s))
def test_each_estimator_trains_and_predicts_probabilities_of_both_classes(
    name: str, small: tuple[pd.DataFrame, DatasetSchema, Preprocessing]
) -> None:
    frame, schema, prep = small
    trained = train_model(prep.prepared, "target", prep.transformer, name, {}, seed=0)
    features = frame[list(schema.features)]
    proba = trained.model.predict_proba(features)
    assert list(trained.model.classes_) == [0, 1]
    assert proba.shape == (len(frame), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # Both classes are predicted somewhere, and better than chance on the training rows.
    predicted = proba.argmax(axis=1)
    assert set(predicted) == {0, 1}
    assert (predicted == frame["target"].to_numpy()).mean() > 0.7
    assert trained.metadata["estimator"] == name
    assert trained.metadata["classes"] == ["0", "1"]
    assert trained.metadata["train_rows"] == len(prep.prepared)


def test_unknown_estimator_is_rejected_with_valid_names(
    small: tuple[pd.DataFrame, DatasetSchema, Preprocessing],
) -> None:
    _, _, prep = small
    with pytest.raises(InputError) as caught:
        train_model(prep.prepared, "target", prep.transformer, "svm", {}, seed=0)
    assert "'svm'" in str(caught.value)
    for name in ESTIMATORS:
        assert name in str(caught.value)


def test_unknown_hyperparameter_is_rejected() -> None:
    with pytest.raises(InputError, match=r"'n_trees'.*random_forest"):
        build_estimator("random_forest", {"n_trees": 5}, seed=0)


def test_hyperparameters_override_defaults_and_seed_sets_random_state() -> None:
    _, forest = build_estimator("random_forest", {"n_estimators": 7}, seed=13)
    assert forest.get_params()["n_estimators"] == 7 and forest.get_params()["random_state"] == 13
    assert build_estimator("random_forest", {}, seed=1)[1].get_params()["n_estimators"] == 200
    assert build_estimator("logistic_regression", {}, seed=1)[1].get_params()["max_iter"] == 1000
    _, explicit = build_estimator("gradient_boosting", {"random_state": 99}, seed=1)
    assert explicit.get_params()["random_state"] == 99


def test_invalid_hyperparameter_value_is_an_input_error(
    small: tuple[pd.DataFrame, DatasetSchema, Preprocessing],
) -> None:
    _, _, prep = small
    with pytest.raises(InputError, match="cannot train logistic_regression"):
        train_model(prep.prepared, "target", prep.transformer, "logistic_regression", {"C": -1.0}, seed=0)


# --- parse_hyperparameters ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["{bad json", '{"C": }', "{'C': 1}"])
def test_hyperparameters_that_are_not_json_are_rejected(text: str) -> None:
    with pytest.raises(InputError, match="not valid JSON"):
        parse_hyperparameters(text)


@pytest.mark.parametrize("text", ["[1, 2]", "3", '"C"', "null"])
def test_hyperparameters_that_are_not_an_object_are_rejected(text: str) -> None:
    with pytest.raises(InputError, match="JSON object"):
        parse_hyperparameters(text)


def test_hyperparameters_object_and_empty_text_are_accepted() -> None:
    assert parse_hyperparameters('{"C": 0.5, "penalty": "l2"}') == {"C": 0.5, "penalty": "l2"}
    assert parse_hyperparameters("  ") == {}


# --- training input checks ---------------------------------------------------------------------------


def test_single_class_training_data_is_rejected(
    small: tuple[pd.DataFrame, DatasetSchema, Preprocessing],
) -> None:
    _, _, prep = small
    one_class = prep.prepared.assign(target=1)
    with pytest.raises(InputError, match="single class"):
        train_model(one_class, "target", prep.transformer, "logistic_regression", {}, seed=0)


def _prepared_with_nan() -> tuple[pd.DataFrame, Preprocessing]:
    raw = synthetic_dataset(60, 3, seed=4)
    raw.loc[::5, "x01"] = np.nan
    frame, schema = validate_dataset(raw, "target")
    prep = fit_preprocessing(frame, schema, parse_steps("standard_scale"))  # no impute step
    assert prep.prepared["f0001"].isna().any()
    return frame, prep


@pytest.mark.parametrize("name", ["logistic_regression", "sklearn.svm.SVC"])
def test_missing_features_without_impute_step_are_rejected(name: str) -> None:
    _, prep = _prepared_with_nan()
    with pytest.raises(InputError, match="impute"):
        train_model(prep.prepared, "target", prep.transformer, name, {}, seed=0)


@pytest.mark.parametrize("name", ["gradient_boosting", "random_forest"])
def test_estimators_that_take_missing_values_accept_missing_features(name: str) -> None:
    """Decided by scikit-learn's own ``allow_nan`` tag, so it holds for import paths too."""
    frame, prep = _prepared_with_nan()
    trained = train_model(prep.prepared, "target", prep.transformer, name, {}, seed=0)
    proba = trained.model.predict_proba(frame.drop(columns=["target"]))
    assert proba.shape == (60, 2) and not np.isnan(proba).any()


def test_metadata_records_versions_and_parameters(
    small: tuple[pd.DataFrame, DatasetSchema, Preprocessing],
) -> None:
    _, _, prep = small
    trained = train_model(
        prep.prepared, "target", prep.transformer, "random_forest", {"n_estimators": 5}, seed=3
    )
    meta = trained.metadata
    assert meta["sklearn_version"] == sklearn.__version__
    assert meta["python_version"] == ".".join(str(p) for p in sys.version_info[:3])
    assert meta["estimator_class"] == "sklearn.ensemble._forest.RandomForestClassifier"
    assert meta["hyperparameters"] == {"n_estimators": 5} and meta["seed"] == 3
    json.dumps(meta)  # JSON-ready
    assert [name for name, _ in trained.model.steps] == ["preprocess", "estimator"]


# --- the saved model ---------------------------------------------------------------------------------


def test_run_train_writes_model_and_lineage_metadata(chain_dir: dict[str, Path]) -> None:
    meta = json.loads((chain_dir["model"] / "metadata.json").read_text())
    schema = json.loads(chain_dir["schema"].read_text())
    split = json.loads(chain_dir["split_info"].read_text())
    assert meta["data_fingerprint"] == schema["fingerprint"]
    assert meta["features"] == schema["features"] and meta["label"] == "target"
    assert meta["split"] == split
    assert meta["source"] == "builtin://breast_cancer"
    assert meta["preprocessing"] == [
        "drop_duplicates",
        "drop_constant",
        "impute_median",
        "clip_outliers",
        "standard_scale",
    ]
    assert meta["sklearn_version"] == sklearn.__version__


def test_saved_model_references_only_sklearn_numpy_scipy_and_builtins(
    chain_dir: dict[str, Path], pickle_tools: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, found = pickle_tools.joblib_globals(chain_dir["model"] / "model.joblib", monkeypatch)
    assert ("sklearn.linear_model._logistic", "LogisticRegression") in found
    assert not [m for m, _ in found if m.split(".")[0] == "components"]
    assert pickle_tools.disallowed(found) == []
    assert pickle_tools.disallowed(pickle_tools.pickle_globals(pickle.dumps(model, protocol=4))) == []


def test_saved_model_loads_and_predicts_without_the_project_package(chain_dir: dict[str, Path]) -> None:
    # As in KServe's sklearn server: joblib.load with no `components` package importable.
    script = textwrap.dedent(
        """
        import importlib.abc, sys

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "components" or name.startswith(("components.", "kfops", "pipelines")):
                    raise ImportError(f"blocked: {name}")
                return None

        sys.meta_path.insert(0, Block())
        import joblib, numpy as np
        model = joblib.load(sys.argv[1])
        rows = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, max_rows=5)[:, :-1]
        proba = model.predict_proba(rows)
        assert proba.shape == (5, 2), proba.shape
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("components", "kfops", "pipelines")))
        """
    )
    csv_path = Path(__file__).resolve().parents[2] / "components" / "ingest" / "data" / "breast_cancer.csv"
    done = subprocess.run(
        [sys.executable, "-I", "-c", script, str(chain_dir["model"] / "model.joblib"), str(csv_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=chain_dir["model"],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_run_train_fails_fast_on_bad_hyperparameters(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not valid JSON"):
        run_train(
            str(tmp_path / "none.parquet"), str(tmp_path / "pre"), str(tmp_path / "m"), hyperparameters="{x"
        )
    assert not (tmp_path / "m").exists()
