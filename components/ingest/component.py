"""KFP wrapper of `ingest`: declares inputs, outputs and image; the body calls the I/O layer."""

from kfp import dsl

from components.images import image


@dsl.component(base_image=image("ingest"), install_kfp_package=False)
def ingest(
    source: str,
    label_column: str,
    categorical_columns: str,
    task: str,
    dataset: dsl.Output[dsl.Dataset],
    schema: dsl.Output[dsl.Artifact],
) -> str:
    """Reads a CSV or Parquet source, validates it and writes a dataset plus its schema.

    Args:
        source: Path or URI (file://, s3://, https://, builtin://) of the raw data.
        label_column: Name of the label column.
        categorical_columns: Comma-separated feature columns to treat as categorical.
        task: auto (a numeric label with more than 20 distinct values is regressed),
            classification or regression.
        dataset: Validated table (Parquet).
        schema: Schema and content fingerprint (JSON).

    Returns:
        The dataset's content fingerprint (``sha256:...``).
    """
    from components.ingest.io import run_ingest
    from components.shared.task import reported

    with reported("ingest"):
        return run_ingest(
            source, label_column, categorical_columns, dataset.path, schema.path, task
        ).fingerprint
