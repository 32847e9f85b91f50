"""I/O layer of `preprocess`: fit the steps on the training set, write transform and data."""

from __future__ import annotations

from components.preprocess.core import Preprocessing, fit_preprocessing, parse_steps
from components.shared.artifacts import PREPROCESSING_FILE, TRANSFORMER_FILE, write_joblib_dir
from components.shared.schema import DatasetSchema
from components.shared.tables import read_parquet, write_parquet


def run_preprocess(steps: str, train_uri: str, prepared_uri: str, preprocessor_dir: str) -> Preprocessing:
    """Fit ``steps`` on the training set written by `split`.

    Args:
        steps: Comma-separated step names, in order (empty: no numeric steps).
        train_uri: Training set (Parquet with schema metadata).
        prepared_uri: Output: transformed training features plus label (Parquet).
        preprocessor_dir: Output directory (path or ``s3://`` prefix) for the fitted
            transformer (``preprocessor.joblib``) and its summary (``preprocessing.json``).

    Returns:
        The fitted preprocessing.
    """
    chosen = parse_steps(steps)  # fail on a bad step name before reading any data
    train, meta = read_parquet(train_uri)
    schema = DatasetSchema.from_dict(meta.get("schema", {}))
    result = fit_preprocessing(train, schema, chosen)
    lineage = {**meta, "preprocessing": result.summary}
    write_parquet(result.prepared, prepared_uri, lineage)
    write_joblib_dir(preprocessor_dir, TRANSFORMER_FILE, result.transformer, PREPROCESSING_FILE, lineage)
    return result
