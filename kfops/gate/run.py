"""``kfops gate``: resolve baseline and candidate, decide every metric, write the reports."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from components.shared.errors import InputError
from components.shared.gate_stats.decide import decide
from components.shared.gate_stats.metrics import METRICS
from components.shared.names import LAYOUT
from components.shared.store import open_store
from components.shared.tasks import REGRESSION
from kfops.gate.baseline import find_baseline
from kfops.gate.config import GateConfig
from kfops.gate.records import Predictions, check_same_examples, comparable, load_predictions
from kfops.gate.report import GateOutcome, MetricOutcome

_FILE_SUFFIXES = (".csv", ".parquet", ".pq")


def is_file_spec(spec: str) -> bool:
    """Whether a ``--baseline`` value names a file/URI rather than a branch."""
    return "://" in spec or spec.lower().endswith(_FILE_SUFFIXES) or Path(spec).exists()


def _describe(predictions: Predictions, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    model = predictions.facts.get("model", {})
    info = {"source": predictions.source, "n": predictions.n, "estimator": model.get("estimator")}
    info.update({k: v for k, v in (extra or {}).items() if v})
    run = info.get("run_name") or info.get("run_id")
    if info.get("branch"):
        info["label"] = f"baseline of `{info['branch']}`: run `{run}`"
    elif run:
        info["label"] = f"run `{run}`" + (f" on `{info['git_ref']}`" if info.get("git_ref") else "")
    else:
        info["label"] = f"`{predictions.source}`"
    # Name the model itself: its name and version, and what kind of estimator it is.
    what = [f"{info.get('model_name', 'model')} {info['model_version']}"] if info.get("model_version") else []
    what += [str(info["estimator"])] if info.get("estimator") else []
    if what:
        info["label"] += f" ({', '.join(what)})"
    return info


def _has_baselines(store: str, pipeline: str, branch: str) -> bool:
    from components.shared.errors import KfopsError
    from kfops.gate.baseline import list_baselines

    try:
        return bool(list_baselines(store, pipeline, branch))
    except KfopsError:
        return False


def per_class_recall(baseline: Predictions, candidate: Predictions) -> dict[str, dict[str, float]]:
    """Recall of each true class for both models (the plot's per-class panel; none for regression)."""
    if baseline.task == REGRESSION:
        return {}
    truth, base_pred = comparable(baseline.y_true, baseline.y_pred)
    truth_c, cand_pred = comparable(baseline.y_true, candidate.y_pred)
    frame = pd.DataFrame({"c": baseline.y_true, "b": truth == base_pred, "k": truth_c == cand_pred})
    frame = frame.groupby("c").mean()
    return {str(c): {"baseline": float(r.b), "candidate": float(r.k)} for c, r in frame.iterrows()}


def compare(baseline: Predictions, candidate: Predictions, config: GateConfig) -> list[MetricOutcome]:
    """Decide every configured metric of the records' task (metrics that cannot be computed get a note).

    Raises:
        InputError: One record is of a classifier and the other of a regressor, or a gated
            metric cannot be computed.
    """
    if baseline.task != candidate.task:
        raise InputError(
            f"the baseline is a {baseline.task} model and the candidate a {candidate.task} model; "
            "they cannot be compared"
        )
    outcomes = []
    classes = candidate.classes or baseline.classes or None
    for rule in config.metrics:
        if METRICS[rule.name].task != candidate.task:
            continue
        needs_scores = METRICS[rule.name].needs_scores
        if needs_scores and (baseline.scores is None or candidate.scores is None):
            note = "no score columns (score_<class>) in both prediction sets"
        elif needs_scores and baseline.classes != candidate.classes:
            note = f"score columns differ: {baseline.classes} vs {candidate.classes}"
        else:
            try:
                decision = decide(
                    baseline.y_true,
                    baseline.y_pred,
                    candidate.y_pred,
                    metric=rule.name,
                    baseline_score=baseline.scores if needs_scores else None,
                    candidate_score=candidate.scores if needs_scores else None,
                    tolerance=rule.tolerance,
                    alpha=rule.alpha,
                    classes=classes if needs_scores else None,
                )
            except InputError as exc:
                if rule.gate:
                    raise
                outcomes.append(MetricOutcome(rule, None, str(exc)))
            else:
                outcomes.append(MetricOutcome(rule, decision))
            continue
        if rule.gate:
            raise InputError(f"gated metric {rule.name} cannot be computed: {note}")
        outcomes.append(MetricOutcome(rule, None, note))
    return outcomes


def _finite(decision: Any) -> bool:
    return all(math.isfinite(float(v)) for v in (decision.baseline, decision.candidate, decision.delta))


def run_gate(
    *,
    baseline_spec: str,
    candidate_uri: str,
    config: GateConfig,
    store: str,
    candidate_info: dict[str, Any] | None = None,
) -> GateOutcome:
    """Compare the candidate with the baseline (a file/URI or a branch's stored baseline).

    Raises:
        InputError: Unreadable inputs, different evaluation sets, a gated metric
            that cannot be computed.
    """
    from kfops.gate.inputs import resolve_input

    if not candidate_info:  # a file, a run record or a run id; its record names model and version
        resolved = resolve_input(candidate_uri, store, config.pipeline)
        assert resolved is not None
        candidate_uri, candidate_info = resolved
    candidate = load_predictions(candidate_uri)
    cand_info = _describe(candidate, candidate_info)
    # A branch with a baseline is a branch (no run lookup); else a file, a run record or a run.
    named = (
        None
        if not is_file_spec(baseline_spec) and _has_baselines(store, config.pipeline, baseline_spec)
        else resolve_input(baseline_spec, store, config.pipeline, allow_branch=True)
    )
    if named is not None:
        baseline = load_predictions(named[0])
        base_info = _describe(baseline, named[1])
    else:
        # A mistyped store (missing folder or bucket) must not read as "no baseline yet".
        open_store(store).check_readable(LAYOUT.metrics)
        pointer = find_baseline(store, config.pipeline, baseline_spec, candidate.fingerprint)
        if pointer is None:
            result = "passes" if config.on_missing_baseline == "pass" else "fails"
            warning = (
                f"No baseline for pipeline '{config.pipeline}' on branch '{baseline_spec}' and this "
                f"evaluation set yet; the gate {result} (on_missing_baseline). "
                "`kfops baseline promote` sets one."
            )
            outcome = GateOutcome(
                config.pipeline,
                "no-baseline",
                {"label": f"none on '{baseline_spec}'"},
                cand_info,
                candidate.n,
                candidate.fingerprint,
                warnings=[warning],
            )
            outcome.missing_baseline_fails = config.on_missing_baseline == "fail"
            return outcome
        baseline = load_predictions(pointer["evaluation_uri"])
        base_info = _describe(
            baseline,
            {
                k: pointer.get(k)
                for k in ("branch", "run_id", "run_name", "git_commit", "model_name", "model_version")
            },
        )
    check_same_examples(baseline, candidate)
    metrics = compare(baseline, candidate, config)
    for metric in metrics:
        if metric.rule.gate and metric.decision is not None and not _finite(metric.decision):
            d = metric.decision
            raise InputError(
                f"gated metric {metric.rule.name} is not a number (baseline {d.baseline}, candidate "
                f"{d.candidate}): the predictions cannot be scored"
            )
    verdict = "fail" if any(m.failed for m in metrics) else "pass"
    return GateOutcome(
        config.pipeline,
        verdict,
        base_info,
        cand_info,
        candidate.n,
        candidate.fingerprint or baseline.fingerprint,
        metrics,
        per_class=per_class_recall(baseline, candidate),
    )


def publish_github(markdown: str) -> None:
    """Append the report to the GitHub Actions job summary, when running there."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(markdown)
