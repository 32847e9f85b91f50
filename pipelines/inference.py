"""Inference pipeline: load a stored model (the champion by default) and predict a batch. No training."""

from kfp import dsl

from components.batch_predict.component import batch_predict

PIPELINE_NAME = "inference"


@dsl.pipeline(name=PIPELINE_NAME, description="Predict a batch with the champion (or a named version).")
def inference(
    store: str,
    source: str = "builtin://breast_cancer",
    model: str = "breast-cancer",
) -> str:
    """Predicts a batch with a stored model and its saved preprocessing.

    Args:
        store: Store root: a local directory or s3://bucket/prefix.
        source: Batch to score: path, s3://, https:// or builtin:// URI (CSV or Parquet).
        model: NAME for the current champion, or NAME:VERSION.

    Returns:
        URI of the predictions (Parquet whose metadata names model version and input fingerprint).
    """
    predicted = batch_predict(store=store, model=model, source=source, run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER)
    predicted.set_display_name("batch-predict").set_cpu_request("1").set_memory_request("2Gi")
    return predicted.outputs["uri"]
