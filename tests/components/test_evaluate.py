"""Tests of `evaluate` against metrics computed by hand on tiny examples."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from components.evaluate.core import evaluate_model
from components.evaluate.io import run_evaluate
from components.shared.errors import InputError, StoreError
from components.shared.tables import read_parquet


class FakeModel:
    """A 'model' whose class probabilities are the test set's own ``p_<class>`` columns."""

    def __init__(self, classes: list[object]) -> None:
        self.classes_ = np.array(classes)
        self.seen: pd.DataFrame | None = None

    def predict_proba(self, x: pd.DataFrame) -> np.ndarray:
        self.seen = x
        return x[[f"p_{c}" for c in self.classes_]].to_numpy()


def _binary() -> pd.DataFrame:
    # p_b:      0.1  0.7  0.8  0.4  0.9
    # y_true:   a    a    b    b    b
    # y_pred:   a    b    b    a    b     (argmax)
    p_b = np.array([0.1, 0.7, 0.8, 0.4, 0.9])
    return pd.DataFrame({"p_a": 1 - p_b, "p_b": p_b, "y": ["a", "a", "b", "b", "b"]})


def test_binary_metrics_match_hand_computation() -> None:
    evaluation = evaluate_model(FakeModel(["a", "b"]), _binary(), ["p_a", "p_b"], "y")
    m = evaluation.metrics
    assert m["accuracy"] == pytest.approx(3 / 5)
    # class a: precision 1/2, recall 1/2 -> F1 1/2; class b: precision 2/3, recall 2/3 -> F1 2/3.
    assert m["macro_f1"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    # ROC AUC: of the 3 x 2 (positive b, negative a) pairs, 5 rank the positive higher.
    assert m["roc_auc"] == pytest.approx(5 / 6)
    expected_log_loss = -(math.log(0.9) + math.log(0.3) + math.log(0.8) + math.log(0.4) + math.log(0.9)) / 5
    assert m["log_loss"] == pytest.approx(expected_log_loss)
    assert set(m) == {"accuracy", "macro_f1", "log_loss", "roc_auc"}
    assert all(type(v) is float for v in m.values())


def test_binary_confusion_matrix_rows_are_true_columns_are_predicted() -> None:
    evaluation = evaluate_model(FakeModel(["a", "b"]), _binary(), ["p_a", "p_b"], "y")
    assert evaluation.classes == ["a", "b"]
    assert evaluation.confusion == [[1, 1], [1, 2]]


def test_record_has_one_row_per_example_with_scores_per_class() -> None:
    test = _binary()
    evaluation = evaluate_model(FakeModel(["a", "b"]), test, ["p_a", "p_b"], "y")
    record = evaluation.record
    assert list(record.columns) == ["id", "y_true", "y_pred", "score_a", "score_b"]
    assert record["id"].tolist() == [0, 1, 2, 3, 4]
    assert record["y_true"].tolist() == ["a", "a", "b", "b", "b"]
    assert record["y_pred"].tolist() == ["a", "b", "b", "a", "b"]
    np.testing.assert_allclose(record["score_b"], [0.1, 0.7, 0.8, 0.4, 0.9])
    np.testing.assert_allclose(record["score_a"], [0.9, 0.3, 0.2, 0.6, 0.1])


def test_model_sees_only_the_feature_columns_in_the_given_order() -> None:
    model = FakeModel(["a", "b"])
    test = _binary().assign(extra=1.0)[["extra", "y", "p_b", "p_a"]]
    evaluate_model(model, test, ["p_a", "p_b"], "y")
    assert model.seen is not None and list(model.seen.columns) == ["p_a", "p_b"]


def test_record_ids_count_rows_even_when_the_test_index_does_not() -> None:
    test = _binary()
    test.index = [10, 3, 7, 42, 5]
    record = evaluate_model(FakeModel(["a", "b"]), test, ["p_a", "p_b"], "y").record
    assert record["id"].tolist() == [0, 1, 2, 3, 4]
    assert record["y_pred"].tolist() == ["a", "b", "b", "a", "b"]


def _three_classes() -> pd.DataFrame:
    # rows: true -> predicted
    #   x -> x, x -> y, y -> y, z -> z, z -> x, y -> y
    proba = np.array(
        [
            [0.6, 0.3, 0.1],
            [0.2, 0.5, 0.3],
            [0.1, 0.8, 0.1],
            [0.2, 0.2, 0.6],
            [0.5, 0.1, 0.4],
            [0.3, 0.4, 0.3],
        ]
    )
    frame = pd.DataFrame(proba, columns=["p_x", "p_y", "p_z"])
    frame["label"] = ["x", "x", "y", "z", "z", "y"]
    return frame


def test_three_classes_have_macro_one_vs_rest_roc_auc_and_correct_metrics() -> None:
    """The same macro one-vs-rest ROC-AUC the gate computes (so the run record and the gate agree)."""
    from sklearn.metrics import roc_auc_score

    frame = _three_classes()
    evaluation = evaluate_model(FakeModel(["x", "y", "z"]), frame, ["p_x", "p_y", "p_z"], "label")
    m = evaluation.metrics
    proba = frame[["p_x", "p_y", "p_z"]].to_numpy()
    assert m["roc_auc"] == pytest.approx(roc_auc_score(frame["label"], proba, multi_class="ovr"))
    missing = frame[frame["label"] != "z"].reset_index(drop=True)  # a class without examples: undefined
    assert (
        "roc_auc"
        not in evaluate_model(FakeModel(["x", "y", "z"]), missing, ["p_x", "p_y", "p_z"], "label").metrics
    )
    assert m["accuracy"] == pytest.approx(4 / 6)
    # x: P 1/2 R 1/2 F1 1/2; y: P 2/3 R 1 F1 4/5; z: P 1 R 1/2 F1 2/3.
    assert m["macro_f1"] == pytest.approx((1 / 2 + 4 / 5 + 2 / 3) / 3)
    assert evaluation.confusion == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert list(evaluation.record.columns) == ["id", "y_true", "y_pred", "score_x", "score_y", "score_z"]
    assert evaluation.record["y_pred"].tolist() == ["x", "y", "y", "z", "x", "y"]


def test_binary_model_on_a_test_set_with_one_class_has_no_roc_auc() -> None:
    test = _binary().iloc[2:].reset_index(drop=True)  # only "b"
    m = evaluate_model(FakeModel(["a", "b"]), test, ["p_a", "p_b"], "y").metrics
    assert "roc_auc" not in m
    assert m["accuracy"] == pytest.approx(2 / 3)


def test_integer_labels_give_string_class_names_and_score_columns() -> None:
    test = _binary().rename(columns={"p_a": "p_0", "p_b": "p_1"})
    test["y"] = [0, 0, 1, 1, 1]
    evaluation = evaluate_model(FakeModel([0, 1]), test, ["p_0", "p_1"], "y")
    assert evaluation.classes == ["0", "1"]
    assert list(evaluation.record.columns)[3:] == ["score_0", "score_1"]
    assert evaluation.metrics["accuracy"] == pytest.approx(3 / 5)


@pytest.mark.parametrize("dropped", ["p_b", "y"])
def test_missing_feature_or_label_column_is_rejected(dropped: str) -> None:
    test = _binary().drop(columns=[dropped])
    with pytest.raises(InputError, match=f"'{dropped}'"):
        evaluate_model(FakeModel(["a", "b"]), test, ["p_a", "p_b"], "y")


def test_empty_test_set_is_rejected() -> None:
    with pytest.raises(InputError, match="no rows"):
        evaluate_model(FakeModel(["a", "b"]), _binary().iloc[:0], ["p_a", "p_b"], "y")


def test_run_evaluate_record_matches_its_metrics(
    tmp_path: Path, chain: Callable[..., dict[str, Path]]
) -> None:
    paths = chain(tmp_path)
    record, facts = read_parquet(str(paths["evaluation"]))
    test, test_meta = read_parquet(str(paths["test"]))
    assert len(record) == len(test) == facts["test_rows"]
    assert record["y_true"].tolist() == test["target"].tolist()
    # The stored metrics agree with the stored per-example record.
    assert facts["metrics"]["accuracy"] == pytest.approx((record["y_true"] == record["y_pred"]).mean())
    np.testing.assert_allclose(record[["score_0", "score_1"]].sum(axis=1), 1.0)
    assert facts["test_fingerprint"] == test_meta["split"]["test_fingerprint"]
    assert facts["model"]["estimator"] == "logistic_regression"
    tp = int(((record["y_true"] == 1) & (record["y_pred"] == 1)).sum())
    assert facts["confusion_matrix"][1][1] == tp


def test_run_evaluate_fails_on_missing_model(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        run_evaluate(str(tmp_path / "no-model"), str(tmp_path / "t.parquet"), str(tmp_path / "r.parquet"))
