"""Loading prediction sets, checking they match, and reading the gate settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from components.shared.errors import InputError
from components.shared.tables import write_parquet
from kfops.gate.config import GateConfig, load_config, parse_config
from kfops.gate.records import Predictions, check_same_examples, load_predictions

FP_A = "sha256:" + "0123456789ab" * 5 + "0123"  # 64 hex digits
FP_B = "sha256:" + "fedcba987654" * 5 + "3210"


def write_csv(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


# --- load_predictions ---------------------------------------------------------------------


def test_evaluation_record_parquet_loads_with_fingerprint_classes_and_scores(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "id": [2, 0, 1],
            "y_true": ["b", "a", "b"],
            "y_pred": ["b", "b", "a"],
            "score_a": [0.1, 0.3, 0.6],
            "score_b": [0.9, 0.7, 0.4],
        }
    )
    facts = {"test_fingerprint": FP_A, "classes": ["b", "a"], "metrics": {"accuracy": 1 / 3}}
    uri = write_parquet(frame, str(tmp_path / "evaluation.parquet"), facts)
    p = load_predictions(uri)
    assert p.source == uri
    assert p.fingerprint == FP_A
    assert p.facts == facts
    assert p.n == 3
    # sorted by id, score columns in the record's class order
    assert p.ids.tolist() == [0, 1, 2]
    assert p.y_true.tolist() == ["a", "b", "b"]
    assert p.y_pred.tolist() == ["b", "a", "b"]
    assert p.classes == ["b", "a"]
    np.testing.assert_array_equal(p.scores, [[0.7, 0.3], [0.4, 0.6], [0.9, 0.1]])


def test_csv_with_only_labels_loads_without_scores_or_fingerprint(tmp_path: Path) -> None:
    p = load_predictions(write_csv(tmp_path / "p.csv", "y_true,y_pred\n1,1\n0,1\n1,0\n0,0\n"))
    assert p.n == 4
    assert p.y_true.tolist() == [1, 0, 1, 0]
    assert p.y_pred.tolist() == [1, 1, 0, 0]
    assert p.scores is None and p.classes == []
    assert p.fingerprint is None and p.facts == {} and p.ids is None


def test_csv_rows_are_sorted_by_id(tmp_path: Path) -> None:
    text = "id,y_true,y_pred\n30,c,c\n10,a,b\n20,b,b\n"
    p = load_predictions(write_csv(tmp_path / "p.csv", text))
    assert p.ids.tolist() == [10, 20, 30]
    assert p.y_true.tolist() == ["a", "b", "c"]
    assert p.y_pred.tolist() == ["b", "b", "c"]


def test_csv_score_columns_become_a_matrix_in_column_order(tmp_path: Path) -> None:
    text = "y_true,y_pred,score_cat,score_dog,score_emu\ncat,cat,0.7,0.2,0.1\ndog,emu,0.1,0.3,0.6\n"
    p = load_predictions(write_csv(tmp_path / "p.csv", text))
    assert p.classes == ["cat", "dog", "emu"]
    np.testing.assert_array_equal(p.scores, [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])


def test_plain_parquet_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pd.DataFrame(
        {"y_true": [0, 1], "y_pred": [1, 1], "score_0": [0.4, 0.2], "score_1": [0.6, 0.8]}
    ).to_parquet(path)
    p = load_predictions(str(path))
    assert p.y_true.tolist() == [0, 1] and p.classes == ["0", "1"] and p.fingerprint is None
    np.testing.assert_array_equal(p.scores, [[0.4, 0.6], [0.2, 0.8]])


@pytest.mark.parametrize("text", ["y_true,score_a\na,0.5\n", "y_pred\na\n", "label,prediction\na,a\n"])
def test_missing_label_columns_raise_input_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(InputError, match="column"):
        load_predictions(write_csv(tmp_path / "p.csv", text))


def test_missing_y_pred_column_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="'y_pred'"):
        load_predictions(write_csv(tmp_path / "p.csv", "id,y_true\n1,a\n"))


@pytest.mark.parametrize("text", ["", "   \n", "y_true,y_pred\n"])
def test_empty_file_raises_input_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(InputError):
        load_predictions(write_csv(tmp_path / "p.csv", text))


def test_duplicate_ids_raise_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="appears twice"):
        load_predictions(write_csv(tmp_path / "p.csv", "id,y_true,y_pred\n7,a,a\n3,b,b\n7,a,b\n"))


def test_duplicate_id_message_shows_the_id_as_written(tmp_path: Path) -> None:
    # The one-line error is shown to users as is: it should name id 7, not a numpy repr.
    with pytest.raises(InputError) as info:
        load_predictions(write_csv(tmp_path / "p.csv", "id,y_true,y_pred\n7,a,a\n3,b,b\n7,a,b\n"))
    assert str(info.value).endswith(": id 7 appears twice")


@pytest.mark.parametrize(
    ("ids", "order"),
    [
        (["3", "1", "2"], [1, 2, 3]),  # integer ids, shuffled: sorted by a numpy argsort
        (["1", "2", "3"], [1, 2, 3]),  # already in order: kept as read
        (["b", "c", "a"], ["a", "b", "c"]),  # text ids: sorted by pandas
    ],
)
def test_rows_come_back_in_id_order_with_their_values(tmp_path: Path, ids: list[str], order: list) -> None:
    rows = "".join(f"{i},t{i},p{i}\n" for i in ids)
    loaded = load_predictions(write_csv(tmp_path / "p.csv", "id,y_true,y_pred\n" + rows))
    assert [str(i) for i in loaded.ids] == [str(i) for i in order]
    assert list(loaded.y_true) == [f"t{i}" for i in order]  # each row moved whole
    assert list(loaded.y_pred) == [f"p{i}" for i in order]


@pytest.mark.parametrize(
    "text", ["id,y_true,y_pred\n1,a,a\n3,b,b\n3,a,b\n", "id,y_true,y_pred\nx,a,a\ny,b,b\nx,a,b\n"]
)
def test_a_repeated_id_is_refused_in_order_or_not_numeric_or_not(tmp_path: Path, text: str) -> None:
    with pytest.raises(InputError, match=r": id (3|x) appears twice$"):
        load_predictions(write_csv(tmp_path / "p.csv", text))


def test_unreadable_parquet_raises_input_error(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    path.write_bytes(b"this is not parquet at all")
    with pytest.raises(InputError, match="cannot read predictions"):
        load_predictions(str(path))


def test_unreadable_csv_raises_input_error(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"y_true,y_pred\na,b,c,d\n\xff\xfe\x00")
    with pytest.raises(InputError):
        load_predictions(str(path))


def test_directory_instead_of_file_raises_input_error(tmp_path: Path) -> None:
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InputError, match="cannot read predictions"):
        load_predictions(str(tmp_path / "dir.csv"))


@pytest.mark.parametrize("name", ["missing.csv", "missing.parquet"])
def test_missing_file_raises_input_error(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError, match="cannot read predictions"):
        load_predictions(str(tmp_path / name))


# --- check_same_examples ------------------------------------------------------------------


def predictions(
    y_true: list[object], *, fingerprint: str | None = None, ids: list[int] | None = None
) -> Predictions:
    return Predictions(
        source="x",
        y_true=np.asarray(y_true, dtype=object),
        y_pred=np.asarray(y_true, dtype=object),
        scores=None,
        classes=[],
        fingerprint=fingerprint,
        ids=None if ids is None else np.asarray(ids),
    )


def test_same_examples_pass_including_int_and_text_labels() -> None:
    check_same_examples(predictions([1, 0, 1], fingerprint=FP_A), predictions([1, 0, 1], fingerprint=FP_A))
    check_same_examples(predictions([1, 0, 1], ids=[0, 1, 2]), predictions(["1", "0", "1"], ids=[0, 1, 2]))


def test_different_fingerprints_raise_naming_both_prefixes() -> None:
    with pytest.raises(InputError) as info:
        check_same_examples(predictions([1, 0], fingerprint=FP_A), predictions([1, 0], fingerprint=FP_B))
    message = str(info.value)
    assert message.startswith("evaluation sets differ")
    assert f"{FP_A[:19]}... (baseline)" in message
    assert f"{FP_B[:19]}... (candidate)" in message
    assert FP_A[:19] != FP_B[:19]


def test_different_sizes_raise_input_error() -> None:
    with pytest.raises(InputError, match=r"3 examples \(baseline\) vs 2 \(candidate\)"):
        check_same_examples(predictions([1, 0, 1]), predictions([1, 0]))


def test_different_true_labels_name_the_first_differing_position() -> None:
    with pytest.raises(
        InputError, match=r"example 2 has y_true 'c' in the baseline and 'x' in the candidate"
    ):
        check_same_examples(predictions(["a", "b", "c", "d"]), predictions(["a", "b", "x", "y"]))


def test_different_ids_raise_input_error() -> None:
    with pytest.raises(InputError, match=r"example ids '2' \(baseline\) and '5' \(candidate\) at position 1"):
        check_same_examples(predictions(["a", "b"], ids=[1, 2]), predictions(["a", "b"], ids=[1, 5]))


def test_loaded_files_with_different_labels_are_refused(tmp_path: Path) -> None:
    base = load_predictions(write_csv(tmp_path / "b.csv", "y_true,y_pred\n1,1\n0,0\n1,1\n"))
    cand = load_predictions(write_csv(tmp_path / "c.csv", "y_true,y_pred\n1,1\n1,0\n1,1\n"))
    with pytest.raises(InputError, match="example 1"):
        check_same_examples(base, cand)


# --- gate settings ------------------------------------------------------------------------


def rules(config: GateConfig) -> dict[str, tuple[bool, float, float, str]]:
    return {r.name: (r.gate, r.tolerance, r.alpha, r.direction) for r in config.metrics}


def test_defaults_gate_accuracy_and_rmse_only() -> None:
    config = parse_config({}, "defaults")
    assert [r.name for r in config.metrics] == [
        "accuracy", "macro_f1", "roc_auc", "log_loss", "rmse", "mae", "r2"
    ]  # fmt: skip
    assert rules(config) == {
        "accuracy": (True, 0.0, 0.05, "higher"),
        "macro_f1": (False, 0.0, 0.05, "higher"),
        "roc_auc": (False, 0.0, 0.05, "higher"),
        "log_loss": (False, 0.0, 0.05, "lower"),
        "rmse": (True, 0.0, 0.05, "lower"),
        "mae": (False, 0.0, 0.05, "lower"),
        "r2": (False, 0.0, 0.05, "higher"),
    }
    assert [r.name for r in config.gated] == ["accuracy", "rmse"]  # one per task
    assert (config.on_missing_baseline, config.pipeline, config.baseline_branch) == (
        "pass",
        "training",
        "main",
    )


def test_no_pyproject_gives_defaults(tmp_path: Path) -> None:
    config = load_config(None, project_root=tmp_path)
    assert config == parse_config({}, "defaults")


def test_pyproject_without_gate_table_gives_defaults(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert rules(load_config(None, project_root=tmp_path)) == rules(parse_config({}, "d"))


PYPROJECT = """
[project]
name = "x"

[tool.kfops.gate]
alpha = 0.1
on_missing_baseline = "fail"
pipeline = "nightly"
baseline_branch = "develop"

[tool.kfops.gate.metrics.accuracy]
tolerance = 0.01

[tool.kfops.gate.metrics.macro_f1]
gate = true
tolerance = 0.02
alpha = 0.01

[tool.kfops.gate.metrics.log_loss]
direction = "lower"
"""


def test_pyproject_style_gate_table_is_read(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT)
    for config in (load_config(None, project_root=tmp_path), load_config(path)):
        assert config.source == str(path)
        assert config.on_missing_baseline == "fail"
        assert config.pipeline == "nightly" and config.baseline_branch == "develop"
        assert rules(config) == {
            "accuracy": (True, 0.01, 0.1, "higher"),
            "macro_f1": (True, 0.02, 0.01, "higher"),
            "roc_auc": (False, 0.0, 0.1, "higher"),
            "log_loss": (False, 0.0, 0.1, "lower"),
            "rmse": (True, 0.0, 0.1, "lower"),
            "mae": (False, 0.0, 0.1, "lower"),
            "r2": (False, 0.0, 0.1, "higher"),
        }


def test_plain_file_with_top_level_keys_is_read(tmp_path: Path) -> None:
    path = tmp_path / "gate.toml"
    path.write_text(
        'alpha = 0.02\non_missing_baseline = "fail"\n[metrics.roc_auc]\ngate = true\ntolerance = 0.005\n'
    )
    config = load_config(path)
    assert config.on_missing_baseline == "fail"
    assert rules(config)["roc_auc"] == (True, 0.005, 0.02, "higher")
    assert rules(config)["accuracy"] == (True, 0.0, 0.02, "higher")


def test_plain_file_with_gate_table_is_read(tmp_path: Path) -> None:
    path = tmp_path / "gate.toml"
    path.write_text('[gate]\nbaseline_branch = "release"\n[gate.metrics.accuracy]\ngate = false\n')
    config = load_config(path)
    assert config.baseline_branch == "release"
    assert [r.name for r in config.gated] == ["rmse"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"alhpa": 0.05}, "unknown gate setting 'alhpa'"),
        (
            {"metrics": {"accuracy": {"tolerence": 0.1}}},
            r"unknown setting gate\.metrics\.accuracy\.tolerence",
        ),
        ({"metrics": {"precision": {}}}, "unknown metric 'precision'"),
        ({"metrics": {"log_loss": {"direction": "higher"}}}, "lower-is-better"),
        ({"metrics": {"accuracy": {"direction": "lower"}}}, "higher-is-better"),
        ({"metrics": {"accuracy": {"tolerance": -0.01}}}, "tolerance must be >= 0"),
        ({"on_missing_baseline": "warn"}, "on_missing_baseline"),
        ({"on_missing_baseline": True}, "on_missing_baseline"),
        ({"alpha": 0.5}, "alpha"),
        ({"alpha": "0.05"}, "must be a number"),
        ({"metrics": {"accuracy": {"gate": "yes"}}}, "true or false"),
        ({"metrics": {"accuracy": {"tolerance": True}}}, "must be a number"),
        ({"metrics": {"accuracy": {"tolerance": 1.5}}}, r"tolerance must be >= 0 and < 1 for accuracy"),
        ({"metrics": {"macro_f1": {"tolerance": 1.0}}}, r"tolerance must be >= 0 and < 1 for macro_f1"),
        ({"metrics": {"roc_auc": {"tolerance": float("nan")}}}, "tolerance must be finite"),
        ({"metrics": {"log_loss": {"tolerance": float("inf")}}}, "tolerance must be finite"),
        ({"alpha": float("nan")}, "alpha must be in"),
        ({"pipeline": 3}, "gate.pipeline must be a non-empty string"),
        ({"metrics": "accuracy"}, "must be a table"),
    ],
)
def test_bad_settings_raise_input_error(data: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_config(data, "gate.toml")


def test_metric_setting_that_is_not_a_table_raises_input_error() -> None:
    # `[tool.kfops.gate] metrics = { accuracy = 0.01 }`: a wrong type, which parse_config promises
    # to report as an InputError (exit 2), not a TypeError traceback.
    with pytest.raises(InputError):
        parse_config({"metrics": {"accuracy": 0.01}}, "gate.toml")


def test_bad_setting_in_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "gate.toml"
    path.write_text("[metrics.accuracy]\ntolerance = -1\n")
    with pytest.raises(InputError, match=str(path)):
        load_config(path)


def test_invalid_toml_raises_input_error(tmp_path: Path) -> None:
    path = tmp_path / "gate.toml"
    path.write_text("alpha = = 0.05\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(path)


def test_invalid_pyproject_raises_input_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.kfops.gate\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(None, project_root=tmp_path)


def test_missing_config_file_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
