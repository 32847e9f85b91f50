"""KFP wrapper of `model_storage`: declares inputs, outputs and image; the body calls the I/O layer."""

from typing import NamedTuple

from kfp import dsl

from components.images import image


@dsl.component(base_image=image("model_storage"), install_kfp_package=False)
def model_storage(
    model: dsl.Input[dsl.Model],
    evaluation: dsl.Input[dsl.Dataset],
    store: str,
    model_name: str,
    run_id: str,
    run_name: str,
    git_commit: str,
    git_ref: str,
) -> NamedTuple("StoredModel", [("version", str), ("uri", str)]):  # type: ignore[valid-type]
    """Stores the model at an immutable, versioned, KServe-loadable key.

    Writes ``<store>/models/<model_name>/<version>/model.joblib`` and ``metadata.json``
    (metrics, data fingerprint, git commit, run id, parameters); never overwrites.

    Args:
        model: Model directory from train.
        evaluation: Evaluation record from evaluate.
        store: Store root (local directory or s3://bucket/prefix).
        model_name: Model name.
        run_id: Pipeline run id.
        run_name: Pipeline run name.
        git_commit: Commit the pipeline was built from.
        git_ref: Branch or tag.

    Returns:
        version: The new version id.
        uri: The version's folder URI (a KServe storageUri).
    """
    from collections import namedtuple

    from components.model_storage.io import store_model
    from components.shared.task import reported

    with reported("model_storage"):
        stored = store_model(
            model.path,
            evaluation.path,
            store,
            model_name,
            run_id=run_id,
            run_name=run_name,
            git_commit=git_commit,
            git_ref=git_ref,
        )
    return namedtuple("StoredModel", ["version", "uri"])(stored.version, stored.uri)  # type: ignore[call-arg]
