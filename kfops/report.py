"""Human-readable output: run summaries and metrics tables."""

from __future__ import annotations

from typing import Any

METRIC_ORDER = ("accuracy", "macro_f1", "roc_auc", "log_loss", "rmse", "mae", "r2")


def format_metrics(metrics: dict[str, float]) -> str:
    """``accuracy 0.9859  macro_f1 0.9848 ...`` in a fixed order."""
    names = [m for m in METRIC_ORDER if m in metrics] + sorted(set(metrics) - set(METRIC_ORDER))
    return "  ".join(f"{name} {metrics[name]:.4f}" for name in names)


def task_times(tasks: dict[str, float]) -> str:
    """``ingest 1.2 s, split 0.4 s, ...`` (each task's wall time)."""
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in tasks.items())


def run_summary(
    pipeline: str,
    seconds: float,
    record: dict[str, Any],
    log_path: str,
    tasks: dict[str, float] | None = None,
) -> str:
    """The closing summary of `kfops run` (``tasks``: each task's wall time)."""
    run = f" (run {record['run_name']})" if record.get("run_name") else ""
    lines = [f"Pipeline '{pipeline}' succeeded in {seconds:.1f} s{run}"]
    if tasks:
        lines.append(f"  tasks    {task_times(tasks)}")
    if record.get("metrics"):
        lines.append(
            f"  metrics  {format_metrics(record['metrics'])}  (test rows: {record.get('test_rows')})"
        )
    if record.get("model_version"):
        lines.append(f"  model    {record['model_name']} version {record['model_version']}")
        lines.append(f"           {record['model_uri']}")
    if record.get("record_uri"):
        lines.append(f"  record   {record['record_uri']}")
    lines.append(f"  log      {log_path}")
    return "\n".join(lines)


def inference_summary(
    seconds: float, facts: dict[str, Any], uri: str, log_path: str, tasks: dict[str, float]
) -> str:
    """The closing summary of `kfops run inference`: rows, model version, where the predictions are."""
    lines = [f"Pipeline 'inference' succeeded in {seconds:.1f} s"]
    if tasks:
        lines.append(f"  tasks    {task_times(tasks)}")
    lines.append(f"  rows     {facts.get('rows', '?')} predicted")
    lines.append(f"  model    {facts.get('model_name', '?')} version {facts.get('version', '?')}")
    lines.append(f"  output   {uri}")
    lines.append(f"  log      {log_path}")
    return "\n".join(lines)


def records_table(records: list[dict[str, Any]]) -> str:
    """One line per run record, oldest first: when, pipeline, run, model, version, accuracy, ref, commit."""
    if not records:
        return "no run records"
    header = (
        f"{'created (UTC)':<20} {'pipeline':<10} {'run id':<10} {'model':<16} {'version':<26} "
        f"{'metric':>17}  {'ref':<12} commit"
    )
    rows = [header]
    for r in records:
        metrics = r.get("metrics", {})
        # Each task's gated metric: accuracy for a classifier, RMSE for a regressor.
        name = next((m for m in ("accuracy", "rmse") if m in metrics), "")
        shown = f"{name} {metrics[name]:.4f}" if name else "-"
        rows.append(
            f"{str(r.get('created_at', ''))[:19]:<20} {r.get('pipeline', ''):<10} "
            f"{str(r.get('run_id', ''))[:10]:<10} {r.get('model_name') or '-'!s:<16} "
            f"{r.get('model_version', '') or '-':<26} "
            f"{shown:>17}  "
            f"{str(r.get('git_ref', ''))[:12]:<12} {str(r.get('git_commit', ''))[:10]}"
        )
    return "\n".join(rows)
