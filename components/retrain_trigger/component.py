"""KFP wrapper of `retrain_trigger`: declares inputs, outputs and image; the body calls the I/O layer."""

from kfp import dsl

from components.images import image
from components.retrain_trigger.core import IN_CLUSTER_HOST
from components.shared.names import TOKEN_POD_LABEL

__all__ = ["IN_CLUSTER_HOST", "TOKEN_POD_LABEL", "retrain_trigger"]  # defaults the pipeline wires in


@dsl.component(base_image=image("retrain_trigger"), install_kfp_package=False)
def retrain_trigger(
    window: dsl.Input[dsl.Artifact],
    store: str,
    kfp_host: str,
    namespace: str,
    training_pipeline: str,
    training_parameters: str,
    webhook_url: str,
) -> str:
    """Starts the deployed training pipeline, then records the start (the cooldown) and notifies.

    Runs with the pod label ``access-ml-pipeline: "true"`` so the PodDefault mounts
    the KFP ServiceAccount token. With an empty ``kfp_host`` (a local run) it starts
    nothing: ``kfops run monitoring`` starts a local training run itself.

    Args:
        window: The window record from monitoring (JSON).
        store: Store root (local directory or s3://bucket/prefix).
        kfp_host: KFP API URL (in-cluster by default); empty for a local run.
        namespace: Profile namespace of the new run (empty: this pod's namespace).
        training_pipeline: Deployed pipeline to start.
        training_parameters: Extra training parameters (JSON object); store, model_name
            and source default to the window's.
        webhook_url: Optional URL notified when retraining starts.

    Returns:
        The trigger record (JSON), or an empty string when nothing was started here.
    """
    import json
    from pathlib import Path

    from components.retrain_trigger.core import training_parameters as build_parameters
    from components.retrain_trigger.io import run_trigger
    from components.shared.task import reported

    with reported("retrain_trigger"):
        window_json = Path(window.path).read_text()
        facts = json.loads(window_json)
        parameters = build_parameters(
            training_parameters, store=store, model_name=facts["model_name"], source=facts["source"]
        )
        record = run_trigger(
            window_json,
            host=kfp_host,
            namespace=namespace,
            pipeline=training_pipeline,
            parameters=parameters,
            store_uri=store,
            webhook_url=webhook_url,
        )
    return json.dumps(record, sort_keys=True) if record else ""
