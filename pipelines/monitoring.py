"""Monitoring pipeline: score the champion on a labeled window; start retraining when it declined."""

from kfp import dsl, kubernetes

from components.monitoring.component import monitoring as watch
from components.retrain_trigger.component import IN_CLUSTER_HOST, TOKEN_POD_LABEL, retrain_trigger

PIPELINE_NAME = "monitoring"
#: The trigger's webhook: kubectl -n NAMESPACE create secret generic kfops-webhook --from-literal=url=URL
WEBHOOK_SECRET = "kfops-webhook"
WEBHOOK_ENV = "KFOPS_WEBHOOK_URL"  # what components/shared/webhook.py reads (tests/test_compile.py)


@dsl.pipeline(name=PIPELINE_NAME, description="Watch the champion on labeled windows; retrain on decline.")
def monitoring(
    store: str,
    source: str = "builtin://breast_cancer_drift?window=0",
    model_name: str = "breast-cancer",
    metric: str = "auto",
    threshold: float = 0.0,
    tolerance: float = 0.05,
    windows_below: int = 2,
    window_count: int = 3,
    cooldown_hours: float = 72.0,
    as_of: str = "",
    kfp_host: str = IN_CLUSTER_HOST,
    namespace: str = "",
    training_pipeline: str = "training",
    training_parameters: str = "{}",
) -> dsl.Artifact:
    """Records the window's metrics and drift, and starts the training pipeline when the rule fires.

    Args:
        store: Store root: a local directory or s3://bucket/prefix.
        source: Labeled window (CSV or Parquet URI).
        model_name: Model whose champion is watched.
        metric: auto (accuracy for a classifier, rmse for a regressor), accuracy, macro_f1,
            roc_auc, r2, rmse or mae.
        threshold: Absolute floor of the metric, a ceiling for rmse and mae (0: none).
        tolerance: Allowed worsening against the champion's own evaluation (metric units).
        windows_below: N: windows below the floor among the last M that call for retraining.
        window_count: M.
        cooldown_hours: No retraining within this long after the last one started.
        as_of: Time of the window (ISO 8601; empty: now).
        kfp_host: KFP API the trigger calls (in-cluster default); empty for a local run.
        namespace: Profile namespace for the training run (empty: the pod's own).
        training_pipeline: Deployed pipeline to start.
        training_parameters: Extra training parameters (JSON object).

    The webhook notified when retraining starts is a secret, so it is no parameter (parameters
    live in git, in the KFP UI and in run records): the trigger task reads it from key ``url``
    of the Kubernetes Secret ``kfops-webhook`` in the run's namespace, if that Secret exists.

    Returns:
        The window record (a JSON artifact), with the rule's decision.
    """
    watched = watch(
        store=store,
        model_name=model_name,
        source=source,
        metric=metric,
        threshold=threshold,
        tolerance=tolerance,
        windows_below=windows_below,
        window_count=window_count,
        cooldown_hours=cooldown_hours,
        as_of=as_of,
        run_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
    )
    watched.set_display_name("monitor").set_cpu_request("1").set_memory_request("2Gi")
    with dsl.If(watched.outputs["Output"] == True, name="rule-fired"):  # noqa: E712 (a KFP condition)
        started = retrain_trigger(
            window=watched.outputs["window"],
            store=store,
            kfp_host=kfp_host,
            namespace=namespace,
            training_pipeline=training_pipeline,
            training_parameters=training_parameters,
            webhook_url="",  # empty: notify() reads $KFOPS_WEBHOOK_URL, set from the Secret below
        )
        started.set_display_name("retrain-trigger").set_cpu_request("250m").set_memory_request("256Mi")
        started.set_caching_options(False)  # a retraining start must never be replayed from cache
        # The kfops PodDefault selects this label and mounts the KFP ServiceAccount token.
        kubernetes.add_pod_label(started, *TOKEN_POD_LABEL)
        kubernetes.use_secret_as_env(
            started, secret_name=WEBHOOK_SECRET, secret_key_to_env={"url": WEBHOOK_ENV}, optional=True
        )
    return watched.outputs["window"]
