"""I/O layer of `train`: read prepared data and preprocessor, fit, write the model directory."""

from __future__ import annotations

from components.shared.artifacts import (
    METADATA_FILE,
    MODEL_FILE,
    TRANSFORMER_FILE,
    read_joblib,
    write_joblib_dir,
)
from components.shared.schema import DatasetSchema
from components.shared.tables import read_parquet
from components.train.core import TrainedModel, parse_hyperparameters, train_model


def run_train(
    prepared_uri: str,
    preprocessor_dir: str,
    model_dir: str,
    *,
    estimator: str = "logistic_regression",
    hyperparameters: str = "{}",
    seed: int = 42,
) -> TrainedModel:
    """Train and write ``model.joblib`` and ``metadata.json`` under ``model_dir``.

    Args:
        prepared_uri: Transformed training data from `preprocess`.
        preprocessor_dir: Directory with the fitted transformer from `preprocess`.
        model_dir: Output directory (path or ``s3://`` prefix).
        estimator: Estimator name.
        hyperparameters: JSON object of estimator arguments.
        seed: Random seed.

    Returns:
        The trained model and its metadata (which also carries the lineage so far).
    """
    params = parse_hyperparameters(hyperparameters)  # fail fast, before any reading
    prepared, lineage = read_parquet(prepared_uri)
    schema = DatasetSchema.from_dict(lineage.get("schema", {}))
    transformer = read_joblib(f"{preprocessor_dir.rstrip('/')}/{TRANSFORMER_FILE}")
    trained = train_model(prepared, schema.label, transformer, estimator, params, seed)
    trained.metadata.update(
        {
            "label": schema.label,
            "features": list(schema.features),
            "categorical": list(schema.categorical),
            "data_fingerprint": schema.fingerprint,
            "source": lineage.get("source"),
            "split": lineage.get("split", {}),
            "preprocessing": lineage.get("preprocessing", {}).get("steps", []),
            "profile": lineage.get("profile", {}),
        }
    )
    write_joblib_dir(model_dir, MODEL_FILE, trained.model, METADATA_FILE, trained.metadata)
    return trained
