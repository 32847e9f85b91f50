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
from components.train.core import (
    DEFAULT_ALLOWED_MODULES,
    DEFAULT_ESTIMATOR,
    TrainedModel,
    check_estimator_name,
    parse_allowed,
    parse_hyperparameters,
    train_model,
)


def run_train(
    prepared_uri: str,
    preprocessor_dir: str,
    model_dir: str,
    *,
    estimator: str = DEFAULT_ESTIMATOR,
    hyperparameters: str = "{}",
    seed: int = 42,
    allowed_estimators: str = ",".join(DEFAULT_ALLOWED_MODULES),
) -> TrainedModel:
    """Train and write ``model.joblib`` and ``metadata.json`` under ``model_dir``.

    Args:
        prepared_uri: Transformed training data from `preprocess`.
        preprocessor_dir: Directory with the fitted transformer from `preprocess`.
        model_dir: Output directory (path or ``s3://`` prefix).
        estimator: ``auto``, an estimator name or an allowed import path (``sklearn.svm.SVC``).
        hyperparameters: JSON object of estimator arguments.
        seed: Random seed.
        allowed_estimators: Comma-separated module prefixes import paths may name.

    Returns:
        The trained model and its metadata (which also carries the lineage so far).
    """
    params = parse_hyperparameters(hyperparameters)  # fail fast, before any reading
    allowed = parse_allowed(allowed_estimators)
    check_estimator_name(estimator, allowed)  # before anything is imported or read
    prepared, lineage = read_parquet(prepared_uri)
    schema = DatasetSchema.from_dict(lineage.get("schema", {}))
    transformer = read_joblib(f"{preprocessor_dir.rstrip('/')}/{TRANSFORMER_FILE}")
    trained = train_model(prepared, schema.label, transformer, estimator, params, seed, schema.task, allowed)
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
