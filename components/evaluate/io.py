"""I/O layer of `evaluate`: load the model and test set, write the evaluation record."""

from __future__ import annotations

from typing import Any

from components.evaluate.core import Evaluation, evaluate_model
from components.shared.artifacts import load_model_dir
from components.shared.tables import read_parquet, write_parquet


def run_evaluate(model_dir: str, test_uri: str, record_uri: str) -> tuple[Evaluation, dict[str, Any]]:
    """Evaluate the model in ``model_dir`` on the test set and write the evaluation record.

    The record is a Parquet table (``id, y_true, y_pred``, and ``score_<class>`` for a
    classifier) whose
    metadata carries the metrics, the test-set fingerprint and the model's lineage,
    so the performance gate can check that two records cover the same examples.

    Args:
        model_dir: Directory written by `train`.
        test_uri: Test set written by `split`.
        record_uri: Output Parquet path or ``s3://`` URI.

    Returns:
        The evaluation and the record's metadata.
    """
    model, model_meta = load_model_dir(model_dir)
    test, lineage = read_parquet(test_uri)
    evaluation = evaluate_model(model, test, list(model_meta["features"]), str(model_meta["label"]))
    facts = {
        "metrics": evaluation.metrics,
        "task": evaluation.task,
        "classes": evaluation.classes,
        "confusion_matrix": evaluation.confusion,
        "label": model_meta["label"],
        "test_fingerprint": lineage.get("split", {}).get("test_fingerprint"),
        "test_rows": len(test),
        "model": model_meta,
    }
    write_parquet(evaluation.record, record_uri, facts)
    return evaluation, facts
