"""Tests of `ingest` (validation, synthetic data, run_ingest) and of data-source reading."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import components.ingest
from components.ingest.core import parse_columns, synthetic_dataset, validate_dataset
from components.ingest.io import run_ingest, write_synthetic
from components.shared.errors import InputError
from components.shared.fingerprint import fingerprint_frame
from components.shared.sources import fetch_source, source_name
from components.shared.tables import read_parquet, read_table_bytes

BUNDLED_CSV = Path(components.ingest.__file__).parent / "data" / "breast_cancer.csv"


@pytest.fixture(scope="module")
def bundled() -> pd.DataFrame:
    return pd.read_csv(BUNDLED_CSV)


def _bundled_facts() -> tuple[int, list[str], set[str]]:
    """Rows, header and label values of the bundled CSV, read with the csv module only."""
    with BUNDLED_CSV.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    return len(body), header, {r[header.index("target")] for r in body}


def _frame(**columns: list[object]) -> pd.DataFrame:
    return pd.DataFrame(columns)


# --- validate_dataset: the bundled dataset -----------------------------------------------------


def test_validate_bundled_csv_has_569_rows_30_float_features_and_label_last(bundled: pd.DataFrame) -> None:
    rows, header, label_values = _bundled_facts()
    assert rows == 569 and len(header) == 31  # the file itself, independently of pandas
    frame, schema = validate_dataset(bundled, "target")
    assert schema.rows == len(frame) == 569
    assert schema.label == "target"
    assert len(schema.features) == 30
    assert list(schema.features) == [c for c in header if c != "target"]
    assert schema.categorical == ()
    assert schema.classes == tuple(sorted(label_values)) == ("0", "1")
    assert list(frame.columns) == [*schema.features, "target"]
    assert all(frame[c].dtype == np.float64 for c in schema.features)


def test_validate_fingerprint_is_sha256_and_stable_across_calls(bundled: pd.DataFrame) -> None:
    _, first = validate_dataset(bundled, "target")
    _, second = validate_dataset(bundled.copy(), "target")
    assert first.fingerprint.startswith("sha256:")
    assert len(first.fingerprint) == len("sha256:") + 64
    assert first.fingerprint == second.fingerprint


def test_validate_fingerprint_changes_when_one_value_changes(bundled: pd.DataFrame) -> None:
    _, original = validate_dataset(bundled, "target")
    changed = bundled.copy()
    changed.loc[100, "mean_radius"] = changed.loc[100, "mean_radius"] + 0.01
    _, altered = validate_dataset(changed, "target")
    assert altered.fingerprint != original.fingerprint


# --- validate_dataset: errors --------------------------------------------------------------------


def test_validate_rejects_empty_table() -> None:
    with pytest.raises(InputError, match="no rows"):
        validate_dataset(pd.DataFrame({"a": [], "target": []}), "target")


def test_validate_rejects_missing_label_and_names_it() -> None:
    frame = _frame(a=[1.0, 2.0], b=[3.0, 4.0])
    with pytest.raises(InputError, match="'outcome'"):
        validate_dataset(frame, "outcome")


def test_validate_rejects_table_with_only_the_label() -> None:
    with pytest.raises(InputError, match="no feature columns"):
        validate_dataset(_frame(target=[0, 1, 0]), "target")


def test_validate_rejects_undeclared_non_numeric_feature_and_names_it() -> None:
    frame = _frame(size=[1.0, 2.0, 3.0], colour=["red", "blue", "red"], target=[0, 1, 0])
    with pytest.raises(InputError, match=r"'colour'.*not numeric"):
        validate_dataset(frame, "target")


def test_validate_converts_numeric_strings_of_undeclared_feature_to_float() -> None:
    frame = _frame(size=["1.5", "2", None], other=[1.0, 2.0, 3.0], target=[0, 1, 0])
    typed, _ = validate_dataset(frame, "target")
    assert typed["size"].dtype == np.float64
    assert typed["size"].iloc[:2].tolist() == [1.5, 2.0]
    assert np.isnan(typed["size"].iloc[2])


def test_validate_rejects_declared_categorical_that_is_not_a_column() -> None:
    frame = _frame(a=[1.0, 2.0, 3.0], target=[0, 1, 0])
    with pytest.raises(InputError, match="not among the features: nope"):
        validate_dataset(frame, "target", ("nope",))


def test_validate_rejects_all_missing_feature() -> None:
    frame = _frame(a=[1.0, 2.0, 3.0], empty=[np.nan, np.nan, np.nan], target=[0, 1, 0])
    with pytest.raises(InputError, match=r"'empty'.*no values"):
        validate_dataset(frame, "target")


def test_validate_keeps_a_constant_feature_for_drop_constant() -> None:
    frame = _frame(a=[1.0, 2.0, 3.0], flat=[7.0, 7.0, np.nan], target=[0, 1, 0])
    typed, schema = validate_dataset(frame, "target")
    assert "flat" in schema.features and list(typed["flat"][:2]) == [7.0, 7.0]


def test_messages_show_plain_values_not_numpy_reprs() -> None:
    frame = _frame(a=[1.0, 2.0, 3.0], target=np.array([1, 1, 1], dtype="int64"))
    with pytest.raises(InputError, match=r"single class \(1\)$") as caught:
        validate_dataset(frame, "target")
    assert "np." not in str(caught.value)


def test_validate_rejects_label_with_missing_values() -> None:
    frame = _frame(a=[1.0, 2.0, 3.0], target=[0.0, np.nan, 1.0])
    with pytest.raises(InputError, match="1 missing"):
        validate_dataset(frame, "target")


def test_validate_rejects_single_class_label() -> None:
    frame = _frame(a=[1.0, 2.0, 3.0], target=[1, 1, 1])
    with pytest.raises(InputError, match="single class"):
        validate_dataset(frame, "target")


def test_validate_keeps_declared_categorical_as_strings_with_missing_kept_missing() -> None:
    frame = _frame(
        a=[1.0, 2.0, 3.0, 4.0], code=[10, 20, 10, 30], colour=["r", "g", None, "g"], target=[0, 1, 0, 1]
    )
    typed, schema = validate_dataset(frame, "target", ("colour", "code"))
    assert schema.categorical == ("code", "colour")  # table order, not declaration order
    assert schema.numeric == ("a",)
    assert typed["colour"].tolist()[:2] == ["r", "g"] and typed["colour"].tolist()[3] == "g"
    assert pd.isna(typed["colour"].iloc[2])
    # An integer column declared categorical becomes its string form, not a float.
    assert typed["code"].tolist() == ["10", "20", "10", "30"]
    assert all(isinstance(v, str) for v in typed["code"])


def test_parse_columns_strips_and_drops_empty_names() -> None:
    assert parse_columns(" a, b ,,c ") == ("a", "b", "c")
    assert parse_columns("") == ()


# --- synthetic_dataset ---------------------------------------------------------------------------


def test_synthetic_dataset_is_deterministic_for_a_seed() -> None:
    pd.testing.assert_frame_equal(synthetic_dataset(200, 5, seed=3), synthetic_dataset(200, 5, seed=3))


def test_synthetic_dataset_differs_between_seeds() -> None:
    assert not synthetic_dataset(200, 5, seed=3).equals(synthetic_dataset(200, 5, seed=4))


def test_synthetic_dataset_has_requested_shape_columns_and_both_classes() -> None:
    frame = synthetic_dataset(300, 7, seed=1)
    assert frame.shape == (300, 8)
    assert list(frame.columns) == [f"x0{i}" for i in range(7)] + ["target"]
    assert set(frame["target"].unique()) == {0, 1}


@pytest.mark.parametrize("rows", [9, 0, -1])
def test_synthetic_dataset_rejects_fewer_than_10_rows(rows: int) -> None:
    with pytest.raises(InputError, match="at least 10"):
        synthetic_dataset(rows)


def test_synthetic_dataset_accepts_exactly_10_rows_and_rejects_zero_features() -> None:
    assert len(synthetic_dataset(10, 2)) == 10
    with pytest.raises(InputError):
        synthetic_dataset(10, 0)


def test_write_synthetic_csv_is_ingestible(tmp_path: Path) -> None:
    path = tmp_path / "synth.csv"
    write_synthetic(50, str(path), features=3, seed=0)
    schema = run_ingest(str(path), "target", "", str(tmp_path / "d.parquet"), str(tmp_path / "s.json"))
    assert schema.rows == 50 and schema.features == ("x00", "x01", "x02")


# --- run_ingest ----------------------------------------------------------------------------------


def test_run_ingest_builtin_writes_parquet_and_json_schema(tmp_path: Path) -> None:
    dataset, schema_path = tmp_path / "out" / "dataset.parquet", tmp_path / "out" / "schema.json"
    returned = run_ingest("builtin://breast_cancer", "target", "", str(dataset), str(schema_path))

    frame, meta = read_parquet(str(dataset))
    expected = pd.read_csv(BUNDLED_CSV)
    assert frame.shape == (569, 31)
    np.testing.assert_allclose(frame[expected.columns].to_numpy(dtype=float), expected.to_numpy(dtype=float))
    assert meta["source"] == "builtin://breast_cancer"
    assert meta["schema"] == returned.to_dict()

    written = json.loads(schema_path.read_text())
    assert written["source"] == "builtin://breast_cancer"
    assert written["label"] == "target" and written["rows"] == 569 and len(written["features"]) == 30
    assert written["fingerprint"] == returned.fingerprint
    # The recorded fingerprint is that of the table actually written.
    assert fingerprint_frame(frame) == returned.fingerprint


def test_run_ingest_fingerprint_matches_written_table_with_categorical_column(tmp_path: Path) -> None:
    source = tmp_path / "src.csv"
    source.write_text("a,colour,target\n1,red,0\n2,blue,1\n3,red,0\n4,green,1\n")
    returned = run_ingest(
        str(source), "target", "colour", str(tmp_path / "d.parquet"), str(tmp_path / "s.json")
    )
    frame, _ = read_parquet(str(tmp_path / "d.parquet"))
    assert frame["colour"].tolist() == ["red", "blue", "red", "green"]
    # "sha256: content fingerprint of the validated table": re-reading the written table
    # must give the recorded fingerprint, with or without categorical columns.
    assert fingerprint_frame(frame) == returned.fingerprint


def test_run_ingest_csv_empty_categorical_cell_stays_missing(tmp_path: Path) -> None:
    source = tmp_path / "src.csv"
    source.write_text("a,colour,target\n1,red,0\n2,,1\n3,red,0\n4,blue,1\n")
    run_ingest(str(source), "target", "colour", str(tmp_path / "d.parquet"), str(tmp_path / "s.json"))
    frame, _ = read_parquet(str(tmp_path / "d.parquet"))
    # validate_dataset: "declared categorical features become strings (missing values stay missing)";
    # an empty numeric cell of the same file is missing, so must an empty categorical cell be.
    assert pd.isna(frame["colour"].iloc[1]), repr(frame["colour"].iloc[1])


def test_run_ingest_rejects_bad_label_before_writing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="'label'"):
        run_ingest(
            "builtin://breast_cancer", "label", "", str(tmp_path / "d.parquet"), str(tmp_path / "s.json")
        )
    assert not (tmp_path / "d.parquet").exists() and not (tmp_path / "s.json").exists()


# --- fetch_source / read_table_bytes -------------------------------------------------------------


def test_fetch_source_builtin_returns_the_bundled_bytes() -> None:
    assert fetch_source("builtin://breast_cancer") == BUNDLED_CSV.read_bytes()
    assert source_name("builtin://breast_cancer") == "breast_cancer.csv"


def test_fetch_source_unknown_builtin_lists_known_datasets() -> None:
    with pytest.raises(InputError, match=r"'no_such_data'.*breast_cancer"):
        fetch_source("builtin://no_such_data")


def test_fetch_source_refuses_plain_http() -> None:
    with pytest.raises(InputError, match="https://"):
        fetch_source("http://example.com/data.csv")


def test_fetch_source_rejects_unknown_scheme() -> None:
    with pytest.raises(InputError, match="'ftp'"):
        fetch_source("ftp://x")


@pytest.mark.parametrize("as_uri", [False, True], ids=["path", "file-uri"])
def test_fetch_source_missing_local_file(tmp_path: Path, as_uri: bool) -> None:
    missing = tmp_path / "absent.csv"
    with pytest.raises(InputError, match="does not exist"):
        fetch_source(f"file://{missing}" if as_uri else str(missing))


def test_fetch_source_reads_existing_local_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"a,b\n1,2\n")
    assert fetch_source(str(path)) == b"a,b\n1,2\n"


def test_fetch_source_rejects_empty_uri() -> None:
    with pytest.raises(InputError):
        fetch_source("   ")


@pytest.mark.parametrize("data", [b"", b"  \n\n"], ids=["empty", "whitespace"])
def test_read_table_bytes_rejects_empty_csv(data: bytes) -> None:
    with pytest.raises(InputError, match="empty"):
        read_table_bytes(data, "x.csv")


def test_read_table_bytes_rejects_ragged_csv() -> None:
    with pytest.raises(InputError, match="not a readable CSV"):
        read_table_bytes(b"a,b\n1,2,3\n", "x.csv")


def test_read_table_bytes_rejects_binary_garbage_as_input_error() -> None:
    garbage = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"
    with pytest.raises(InputError, match=r"x\.csv is not a readable CSV file: it holds binary data"):
        read_table_bytes(garbage, "x.csv")


def test_read_table_bytes_rejects_garbage_parquet() -> None:
    with pytest.raises(InputError, match="not a readable Parquet"):
        read_table_bytes(b"certainly not parquet", "x.parquet")


def test_read_table_bytes_parses_csv() -> None:
    frame = read_table_bytes(b"a,b\n1,x\n2,y\n", "X.CSV")
    assert frame["a"].tolist() == [1, 2] and frame["b"].tolist() == ["x", "y"]
