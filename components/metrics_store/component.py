"""KFP wrapper of `metrics_store`: declares inputs, outputs and image; the body calls the I/O layer."""

from kfp import dsl

from components.images import image


@dsl.component(base_image=image("metrics_store"), install_kfp_package=False)
def metrics_store(
    evaluation: dsl.Input[dsl.Dataset],
    store: str,
    pipeline: str,
    run_id: str,
    run_name: str,
    git_ref: str,
    git_commit: str,
    model_name: str,
    model_version: str,
    model_uri: str,
) -> str:
    """Appends this run's record to the metrics store (append-only).

    The record holds the pipeline, run, git ref and commit, parameters, metrics,
    data and test-set fingerprints, the stored evaluation record's URI, the model
    version and the time.

    Args:
        evaluation: Evaluation record from evaluate.
        store: Store root (local directory or s3://bucket/prefix).
        pipeline: Pipeline name.
        run_id: Run id.
        run_name: Run name.
        git_ref: Branch or tag.
        git_commit: Commit.
        model_name: Model name ("" if none was stored).
        model_version: Model version ("" if none was stored).
        model_uri: Model URI ("" if none was stored).

    Returns:
        The record as JSON.
    """
    import json

    from components.metrics_store.io import append_record
    from components.shared.task import reported

    with reported("metrics_store"):
        record = append_record(
            evaluation.path,
            store,
            pipeline,
            run_id=run_id,
            run_name=run_name,
            git_ref=git_ref,
            git_commit=git_commit,
            model_name=model_name,
            model_version=model_version,
            model_uri=model_uri,
        )
    return json.dumps(record, sort_keys=True)
