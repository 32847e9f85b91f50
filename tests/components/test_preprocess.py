"""Tests of `preprocess`: step parsing, row vs transform steps, order, encoding, portability."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from types import SimpleNamespace

import joblib
import numpy as np
import pandas as pd
import pytest

from components.ingest.core import validate_dataset
from components.ingest.io import run_ingest
from components.preprocess.core import STEPS, Preprocessing, fit_preprocessing, parse_steps
from components.preprocess.io import run_preprocess
from components.shared.errors import InputError
from components.shared.schema import DatasetSchema
from components.shared.tables import read_parquet
from components.split.io import run_split

ALL_STEP_NAMES = {
    "drop_duplicates",
    "drop_missing",
    "drop_constant",
    "impute_median",
    "impute_mean",
    "clip_outliers",
    "standard_scale",
    "minmax_scale",
    "robust_scale",
}


def _fit(
    raw: pd.DataFrame, steps: str, categorical: tuple[str, ...] = ()
) -> tuple[pd.DataFrame, DatasetSchema, Preprocessing]:
    frame, schema = validate_dataset(raw, "target", categorical)
    return frame, schema, fit_preprocessing(frame, schema, parse_steps(steps))


def _features(frame: pd.DataFrame, schema: DatasetSchema) -> pd.DataFrame:
    return frame[list(schema.features)]


# --- parse_steps ---------------------------------------------------------------------------------


def test_step_registry_holds_the_documented_steps() -> None:
    assert set(STEPS) == ALL_STEP_NAMES


def test_parse_steps_rejects_unknown_name_and_lists_every_valid_name() -> None:
    with pytest.raises(InputError) as caught:
        parse_steps("impute_median,normalise")
    message = str(caught.value)
    assert "'normalise'" in message
    for name in ALL_STEP_NAMES:
        assert name in message


def test_parse_steps_rejects_repeated_step() -> None:
    with pytest.raises(InputError, match=r"'impute_median'.*more than once"):
        parse_steps("impute_median,standard_scale, impute_median")


def test_parse_steps_keeps_given_order_and_strips_spaces() -> None:
    assert parse_steps(" standard_scale , clip_outliers,impute_mean ") == (
        "standard_scale",
        "clip_outliers",
        "impute_mean",
    )


@pytest.mark.parametrize("spec", ["", "  ", ", ,"])
def test_parse_steps_empty_spec_means_no_steps(spec: str) -> None:
    assert parse_steps(spec) == ()


# --- row steps are training-only --------------------------------------------------------------------


def test_drop_duplicates_drops_training_rows_but_transform_keeps_every_row() -> None:
    raw = pd.DataFrame(
        {
            "a": [1.0, 2.0, 2.0, 3.0, 4.0, 2.0],
            "b": [5.0, 6.0, 6.0, 7.0, 8.0, 6.0],
            "target": [0, 1, 1, 0, 1, 0],  # row 5 has the features of rows 1-2 but another label
        }
    )
    frame, schema, result = _fit(raw, "drop_duplicates,standard_scale")
    assert len(result.prepared) == 5  # only row 2 (an exact copy of row 1) goes
    assert result.summary["drop_duplicates"] == {"rows_dropped": 1}
    assert result.train["a"].tolist() == [1.0, 2.0, 3.0, 4.0, 2.0]
    # The fitted transform has no row step: six rows in, six rows out (duplicates included).
    out = result.transformer.transform(_features(frame, schema))
    assert out.shape == (6, 2)
    np.testing.assert_allclose(out[1], out[2])
    # And the scaler was fitted on the de-duplicated rows only.
    kept = np.array([1.0, 2.0, 3.0, 4.0, 2.0])
    np.testing.assert_allclose(out[:, 0], (raw["a"].to_numpy() - kept.mean()) / kept.std())


def test_drop_missing_drops_training_rows_but_transform_keeps_rows_with_missing() -> None:
    raw = pd.DataFrame(
        {
            "a": [1.0, np.nan, 3.0, 4.0, 5.0],
            "b": [1.0, 2.0, 3.0, 4.0, 6.0],
            "target": [0, 1, 0, 1, 1],
        }
    )
    frame, schema, result = _fit(raw, "drop_missing,impute_median")
    assert len(result.prepared) == 4
    out = result.transformer.transform(_features(frame, schema))
    assert out.shape == (5, 2)
    assert out[1, 0] == np.median([1.0, 3.0, 4.0, 5.0])


# --- transform steps ---------------------------------------------------------------------------------


def _with_outliers() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    a = rng.standard_normal(200)
    a[:4] = [40.0, -35.0, 55.0, 60.0]
    b = rng.uniform(0, 10, 200)
    return pd.DataFrame({"a": a, "b": b, "target": np.arange(200) % 2})


def test_step_order_changes_the_fitted_transform() -> None:
    raw = _with_outliers()
    frame, schema, clip_first = _fit(raw, "clip_outliers,standard_scale")
    _, _, scale_first = _fit(raw, "standard_scale,clip_outliers")
    x = _features(frame, schema)
    a_clip_first = clip_first.transformer.transform(x)[:, 0]
    a_scale_first = scale_first.transformer.transform(x)[:, 0]
    assert not np.allclose(a_clip_first, a_scale_first)

    a = raw["a"].to_numpy()
    # clip, then scale: clip to the 1st-99th percentiles, then standardise the clipped values.
    clipped = np.clip(a, *np.quantile(a, [0.01, 0.99]))
    np.testing.assert_allclose(a_clip_first, (clipped - clipped.mean()) / clipped.std())
    # scale, then clip: standardise, then clip to the percentiles of the standardised values.
    z = (a - a.mean()) / a.std()
    np.testing.assert_allclose(a_scale_first, np.clip(z, *np.quantile(z, [0.01, 0.99])))


def test_impute_median_fills_missing_with_the_training_median() -> None:
    raw = pd.DataFrame(
        {
            "a": [1.0, np.nan, 3.0, 10.0, 4.0, np.nan],
            "b": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5],
            "target": [0, 1, 0, 1, 0, 1],
        }
    )
    _, _, result = _fit(raw, "impute_median")
    median = 3.5  # median of 1, 3, 4, 10
    assert result.prepared["f0000"].tolist() == [1.0, median, 3.0, 10.0, 4.0, median]
    assert result.summary["impute_median"]["fill"]["a"] == median
    new = pd.DataFrame({"a": [np.nan, 7.0], "b": [np.nan, 1.0]})
    out = result.transformer.transform(new)
    assert out[0, 0] == median and out[1, 0] == 7.0
    assert out[0, 1] == 3.0  # median of b in training: (2.5 + 3.5) / 2


def test_categorical_columns_are_one_hot_encoded_after_the_numeric_ones() -> None:
    raw = pd.DataFrame(
        {
            "a": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "colour": ["red", "green", "blue", "green", "red", "red"],
            "b": [6.0, 5.0, 4.0, 3.0, 2.0, 1.0],
            "size": ["S", "L", "S", "S", "L", "L"],
            "target": [0, 1, 0, 1, 0, 1],
        }
    )
    frame, schema, result = _fit(raw, "standard_scale", ("colour", "size"))
    out = result.transformer.transform(_features(frame, schema))
    assert out.shape == (6, 2 + 3 + 2)  # numeric a, b; colour: 3 values; size: 2 values
    assert result.prepared.shape == (6, 7 + 1)
    # Categories are sorted: colour = blue, green, red; size = L, S.
    np.testing.assert_array_equal(out[1, 2:], [0, 1, 0, 1, 0])  # green, L
    np.testing.assert_array_equal(out[2, 2:], [1, 0, 0, 0, 1])  # blue, S
    assert result.summary["one_hot"] == {"colour": ["blue", "green", "red"], "size": ["L", "S"]}
    # An unseen category encodes as all zeros instead of failing at inference.
    unseen = pd.DataFrame({"a": [1.0], "colour": ["purple"], "b": [1.0], "size": ["S"]})
    np.testing.assert_array_equal(result.transformer.transform(unseen)[0, 2:], [0, 0, 0, 0, 1])


def test_no_steps_passes_numeric_features_through() -> None:
    raw = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 7.0], "target": [0, 1, 0]})
    frame, schema, result = _fit(raw, "")
    np.testing.assert_array_equal(result.transformer.transform(_features(frame, schema)), raw[["a", "b"]])


def test_row_steps_leaving_a_single_class_are_rejected() -> None:
    raw = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [1.0, 2.0, 3.0], "target": [0, 1, 0]})
    with pytest.raises(InputError, match="single class"):
        _fit(raw, "drop_missing")


# --- what the saved transformer needs ----------------------------------------------------------------


def _mixed_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "a": np.where(np.arange(40) % 7 == 0, np.nan, rng.standard_normal(40)),
            "kind": rng.choice(["p", "q", "r"], 40),
            "b": rng.uniform(0, 5, 40),
            "target": np.arange(40) % 2,
        }
    )


def test_scanner_detects_a_project_module_in_a_pickle(
    tmp_path: Path, pickle_tools: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The scanners below must be able to fail: a project class is reported.
    schema = DatasetSchema("y", ("a",), (), ("0", "1"), 2, "sha256:0")
    payload = {"schema": schema, "array": np.arange(3.0)}
    assert pickle_tools.disallowed(pickle_tools.pickle_globals(pickle.dumps(payload, protocol=4))) == [
        "components.shared.schema.DatasetSchema"
    ]
    joblib.dump(payload, tmp_path / "p.joblib")
    _, found = pickle_tools.joblib_globals(tmp_path / "p.joblib", monkeypatch)
    assert pickle_tools.disallowed(found) == ["components.shared.schema.DatasetSchema"]


def test_transformer_pickle_references_only_sklearn_numpy_scipy_and_builtins(
    tmp_path: Path, pickle_tools: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = ",".join(
        [
            "drop_duplicates",
            "impute_median",
            "drop_missing",
            "impute_mean",
            "clip_outliers",
            "standard_scale",
            "minmax_scale",
            "robust_scale",
        ]
    )
    _, _, result = _fit(_mixed_frame(), steps, ("kind",))

    plain = pickle_tools.pickle_globals(pickle.dumps(result.transformer, protocol=4))
    assert ("sklearn.compose._column_transformer", "ColumnTransformer") in plain
    assert pickle_tools.disallowed(plain) == []

    joblib.dump(result.transformer, tmp_path / "preprocessor.joblib")
    loaded, found = pickle_tools.joblib_globals(tmp_path / "preprocessor.joblib", monkeypatch)
    assert ("sklearn.preprocessing._encoders", "OneHotEncoder") in found
    assert pickle_tools.disallowed(found) == []
    assert type(loaded).__name__ == "ColumnTransformer"


def test_transformer_accepts_numpy_arrays_as_kserve_sends_them() -> None:
    frame, schema, result = _fit(_mixed_frame(), "impute_median,clip_outliers,standard_scale", ("kind",))
    features = _features(frame, schema)
    expected = result.transformer.transform(features)
    as_objects = features.to_numpy(dtype=object)
    np.testing.assert_allclose(result.transformer.transform(as_objects), expected)
    # A JSON list of mixed numbers and strings becomes a numpy string array.
    as_strings = np.array([list(row) for row in features.itertuples(index=False)])  # NaN -> "nan"
    assert as_strings.dtype.kind == "U"
    np.testing.assert_allclose(result.transformer.transform(as_strings), expected)


@pytest.mark.parametrize(
    "steps",
    [
        "impute_median,clip_outliers,standard_scale",
        "clip_outliers,impute_median,minmax_scale",
        "drop_constant,impute_median,robust_scale",
    ],
)
def test_the_transformer_warns_about_no_column_names_whatever_it_is_called_with(steps: str) -> None:
    """Evaluate and batch predict call the model with DataFrames, KServe with plain arrays:
    neither may log a feature-name warning on every call."""
    import warnings

    frame, schema, result = _fit(_mixed_frame(), steps, ("kind",))
    features = _features(frame, schema)
    as_strings = np.array([list(row) for row in features.itertuples(index=False)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for called_with in (features, features.to_numpy(dtype=object), as_strings):
            result.transformer.transform(called_with)


def test_transformer_accepts_float_arrays_for_numeric_only_data() -> None:
    frame, schema, result = _fit(_with_outliers(), "impute_median,standard_scale")
    features = _features(frame, schema)
    np.testing.assert_allclose(
        result.transformer.transform(features.to_numpy()), result.transformer.transform(features)
    )


def test_run_preprocess_writes_prepared_data_and_transformer(tmp_path: Path) -> None:
    run_ingest("builtin://breast_cancer", "target", "", str(tmp_path / "d.parquet"), str(tmp_path / "s.json"))
    run_split(
        str(tmp_path / "d.parquet"),
        str(tmp_path / "tr.parquet"),
        str(tmp_path / "te.parquet"),
        str(tmp_path / "i.json"),
    )
    result = run_preprocess(
        "impute_median,standard_scale",
        str(tmp_path / "tr.parquet"),
        str(tmp_path / "prep.parquet"),
        str(tmp_path / "pre"),
    )
    prepared, meta = read_parquet(str(tmp_path / "prep.parquet"))
    assert prepared.shape == (result.summary["rows_out"], 30 + 1)
    assert meta["preprocessing"]["steps"] == ["impute_median", "standard_scale"]
    facts = json.loads((tmp_path / "pre" / "preprocessing.json").read_text())
    assert facts["preprocessing"]["steps"] == ["impute_median", "standard_scale"]
    loaded = joblib.load(tmp_path / "pre" / "preprocessor.joblib")
    train, _ = read_parquet(str(tmp_path / "tr.parquet"))
    out = loaded.transform(train.drop(columns=["target"]))
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-9)  # standardised on the training set


def test_run_preprocess_rejects_bad_step_before_reading_data(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="'bogus'"):
        run_preprocess(
            "bogus", str(tmp_path / "missing.parquet"), str(tmp_path / "p.parquet"), str(tmp_path / "x")
        )


def test_drop_constant_drops_features_constant_in_the_training_rows_and_the_model_keeps_them() -> None:
    frame = pd.DataFrame(
        {
            "a": [1.0, 2.0, 3.0, 4.0],
            "flat": [7.0, 7.0, np.nan, 7.0],
            "b": [0.0, 1.0, 0.0, 2.0],
            "y": [0, 1, 0, 1],
        }
    )
    typed, schema = validate_dataset(frame, "y")
    fitted = fit_preprocessing(typed, schema, parse_steps("drop_constant,impute_median,standard_scale"))
    assert fitted.summary["drop_constant"] == {"dropped": ["flat"]}
    assert set(fitted.summary["standard_scale"]["mean"]) == {"a", "b"}  # later steps see the kept columns
    assert fitted.prepared.shape == (4, 3)  # two features and the label
    # Inference still takes every feature the schema names (the constant one is dropped inside).
    assert fitted.transformer.transform(typed[list(schema.features)]).shape == (4, 2)


def test_digits_with_constant_pixel_columns_trains_with_the_default_steps(
    tmp_path: Path, chain: object
) -> None:
    from sklearn.datasets import load_digits

    from components.preprocess.core import DEFAULT_STEPS

    digits = load_digits(as_frame=True).frame
    assert (digits.drop(columns=["target"]).nunique() == 1).any()  # e.g. pixel_0_0 is always 0
    source = tmp_path / "digits.csv"
    digits.to_csv(source, index=False)
    paths = chain(tmp_path / "run", source=str(source), steps=DEFAULT_STEPS)  # type: ignore[operator]
    _, facts = read_parquet(str(paths["evaluation"]))
    assert len(facts["classes"]) == 10 and facts["metrics"]["accuracy"] > 0.9
