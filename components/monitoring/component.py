"""KFP wrapper of `monitoring`: declares inputs, outputs and image; the body calls the I/O layer."""

from kfp import dsl

from components.images import image


@dsl.component(base_image=image("monitoring"), install_kfp_package=False)
def monitoring(
    store: str,
    model_name: str,
    source: str,
    metric: str,
    threshold: float,
    tolerance: float,
    windows_below: int,
    window_count: int,
    cooldown_hours: float,
    as_of: str,
    run_id: str,
    window: dsl.Output[dsl.Artifact],
    window_metrics: dsl.Output[dsl.Metrics],
) -> bool:
    """Scores the champion on a labeled window, measures input drift and applies the retraining rule.

    Args:
        store: Store root (local directory or s3://bucket/prefix).
        model_name: Model whose champion is watched.
        source: Labeled window (path, s3://, https:// or builtin:// URI; CSV or Parquet).
        metric: auto (accuracy for a classifier, rmse for a regressor), accuracy, macro_f1,
            roc_auc, r2, rmse or mae.
        threshold: Absolute floor of the metric, a ceiling for rmse and mae (0: none).
        tolerance: Allowed drop below the champion's own evaluation.
        windows_below: N: windows below the floor among the last M that call for retraining.
        window_count: M.
        cooldown_hours: No retraining within this long after the last one started.
        as_of: Time of the window (ISO 8601; empty: now).
        run_id: Pipeline run id.
        window: The window record (JSON), as written to the store.
        window_metrics: The window's metrics and largest PSI, shown in the KFP UI.

    Returns:
        Whether to start a retraining now (a single output, so that kfp.local can
        evaluate the pipeline's condition on it).
    """
    import json
    from pathlib import Path

    from components.monitoring.core import MonitorSettings
    from components.monitoring.io import run_monitoring
    from components.shared.task import reported

    with reported("monitoring"):
        settings = MonitorSettings(metric, threshold, tolerance, windows_below, window_count, cooldown_hours)
        record = run_monitoring(store, model_name, source, settings, as_of=as_of, run_id=run_id)
    for name, value in record["metrics"].items():
        window_metrics.log_metric(name, value)
    window_metrics.log_metric("psi_max", record["psi_max"])
    Path(window.path).write_text(json.dumps(record, indent=2, sort_keys=True))
    print(record["decision"]["reason"])
    return bool(record["decision"]["retrain"])
