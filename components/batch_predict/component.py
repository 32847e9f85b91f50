"""KFP wrapper of `batch_predict`: declares inputs, outputs and image; the body calls the I/O layer."""

from typing import NamedTuple

from kfp import dsl

from components.images import image


@dsl.component(base_image=image("batch_predict"), install_kfp_package=False)
def batch_predict(store: str, model: str, source: str, run_id: str) -> NamedTuple(  # type: ignore[valid-type]
    "Predicted", [("uri", str), ("version", str), ("rows", int)]
):
    """Predicts a batch with a stored model and its saved preprocessing; no training.

    Args:
        store: Store root (local directory or s3://bucket/prefix).
        model: NAME for the current champion, or NAME:VERSION.
        source: Batch to score: path, s3://, https:// or builtin:// URI (CSV or Parquet).
        run_id: Pipeline run id (part of the output key).

    Returns:
        uri: Where the predictions went (Parquet; metadata names model version and input fingerprint).
        version: The model version used.
        rows: Rows predicted.
    """
    from collections import namedtuple

    from components.batch_predict.io import run_batch_predict
    from components.shared.task import reported

    with reported("batch_predict"):
        result = run_batch_predict(store, model, source, run_id=run_id)
    return namedtuple("Predicted", ["uri", "version", "rows"])(  # type: ignore[call-arg]
        result.uri, result.facts["version"], result.facts["rows"]
    )
