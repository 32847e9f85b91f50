"""Gate reports: Markdown for people and PRs, JSON for machines, a PNG plot."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.shared.gate_stats.decide import Decision
from kfops.files import output_dir, write_atomically
from kfops.gate.config import MetricRule

#: Hidden marker a workflow searches for to update one PR comment in place.
COMMENT_MARKER = "<!-- kfops-gate:{pipeline} -->"


@dataclass
class MetricOutcome:
    """A metric's rule and decision (``decision`` is None when it could not be computed)."""

    rule: MetricRule
    decision: Decision | None
    note: str = ""

    @property
    def failed(self) -> bool:
        """Gated and regressed."""
        return bool(self.rule.gate and self.decision and self.decision.regressed)


@dataclass
class GateOutcome:
    """Everything the gate decided, ready to render."""

    pipeline: str
    verdict: str  # "pass", "fail" or "no-baseline"
    baseline: dict[str, Any]
    candidate: dict[str, Any]
    n: int
    fingerprint: str | None
    metrics: list[MetricOutcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)
    missing_baseline_fails: bool = False

    @property
    def exit_code(self) -> int:
        """1 on a regression, or on a missing baseline when configured to fail; else 0."""
        if self.verdict == "no-baseline":
            return 1 if self.missing_baseline_fails else 0
        return 1 if self.verdict == "fail" else 0


def _fmt(value: float) -> str:
    return f"{value:.4f}"


def _signed(value: float) -> str:
    return f"{value:+.4f}"


def _p(value: float) -> str:
    return f"{value:.3g}" if value >= 1e-4 else "<1e-4"


def small_sample_sentence(decision: Decision) -> str | None:
    """A plain sentence when the test set cannot resolve the configured tolerance."""
    worse = "drops" if decision.higher_is_better else "increases"
    if decision.tolerance > 0 and not math.isnan(decision.mde) and decision.mde > 2 * decision.tolerance:
        return (
            f"The evaluation set (n = {decision.n:,}) is too small to detect {decision.metric} {worse} "
            f"near the tolerance of {decision.tolerance:g}: only {worse} of {decision.mde:.4f} or more "
            "are caught with 80% power."
        )
    return None


def render_markdown(outcome: GateOutcome) -> str:
    """The report as Markdown (for the job summary and the PR comment)."""
    icon = {"pass": "✅ PASS", "fail": "❌ FAIL", "no-baseline": "⚠️ PASS (no baseline)"}[outcome.verdict]
    if outcome.verdict == "no-baseline" and outcome.exit_code:
        icon = "❌ FAIL (no baseline)"
    lines = [f"## kfops performance gate — `{outcome.pipeline}`: {icon}", ""]
    base, cand = outcome.baseline, outcome.candidate
    lines.append(f"- **Baseline:** {base.get('label', base.get('source', '-'))}")
    lines.append(f"- **Candidate:** {cand.get('label', cand.get('source', '-'))}")
    if outcome.n:
        fingerprint = f", fingerprint `{outcome.fingerprint[:19]}…`" if outcome.fingerprint else ""
        lines.append(f"- **Evaluation set:** n = {outcome.n:,} examples{fingerprint}")
    for warning in outcome.warnings:
        lines += ["", f"> ⚠️ {warning}"]
    if outcome.metrics:
        alpha = outcome.metrics[0].rule.alpha
        lines += [
            "",
            f"| metric | baseline | candidate | Δ = candidate - baseline ({1 - 2 * alpha:.0%} CI) | p "
            "| minimum detectable drop | verdict |",
            "| --- | ---: | ---: | --- | ---: | ---: | --- |",
        ]
        for item in outcome.metrics:
            rule, d = item.rule, item.decision
            role = f"gated, tolerance {rule.tolerance:g}" if rule.gate else "reported"
            if d is not None and not d.higher_is_better:
                role += "; lower is better"
            if d is None:
                lines.append(f"| {rule.name} ({role}) | – | – | – | – | – | n/a: {item.note} |")
                continue
            verdict = (
                "❌ regression"
                if item.failed
                else ("⚠️ worse (not gated)" if d.regressed else "✅ no regression shown")
            )
            lines.append(
                f"| {rule.name} ({role}) | {_fmt(d.baseline)} | {_fmt(d.candidate)} | "
                f"{_signed(d.delta)} ({_signed(d.ci[0])}, {_signed(d.ci[1])}) | {_p(d.p_value)} | "
                f"{'n/a' if math.isnan(d.mde) else f'{d.mde:.4f}'} | {verdict} |"
            )
        lines.append("")
        for item in outcome.metrics:
            if item.rule.gate and item.decision:
                d = item.decision
                if math.isnan(d.mde):
                    power = "the paired differences show no variation, so the detectable drop is unknown"
                else:
                    worse = "drop" if d.higher_is_better else "rise"
                    power = f"a true {worse} of {d.mde:.4f} is detected with 80% power at α = {d.alpha:g}"
                lines.append(f"- {d.metric}: {d.method}; with n = {d.n:,}, {power}.")
                sentence = small_sample_sentence(d)
                if sentence:
                    lines.append(f"- **{sentence}**")
        lines += [
            "",
            "The gate fails only when the data show, at level α, that the candidate is worse "
            "than the baseline by more than the tolerance (paired test on the same examples).",
        ]
    return "\n".join(lines) + "\n"


def render_json(outcome: GateOutcome) -> dict[str, Any]:
    """The verdict for machines."""
    return {
        "pipeline": outcome.pipeline,
        "verdict": outcome.verdict,
        "exit_code": outcome.exit_code,
        "baseline": outcome.baseline,
        "candidate": outcome.candidate,
        "n": outcome.n,
        "test_fingerprint": outcome.fingerprint,
        "warnings": outcome.warnings,
        "metrics": [
            {
                "metric": m.rule.name,
                "gated": m.rule.gate,
                "failed": m.failed,
                "note": m.note,
                **({"decision": m.decision.to_dict()} if m.decision else {}),
            }
            for m in outcome.metrics
        ],
        "per_class_recall": outcome.per_class,
    }


def comment_body(outcome: GateOutcome, markdown: str) -> str:
    """A PR comment carrying a hidden marker, so a workflow updates one comment in place."""
    return COMMENT_MARKER.format(pipeline=outcome.pipeline) + "\n" + markdown


def write_reports(outcome: GateOutcome, report_dir: Path) -> dict[str, Path]:
    """Write ``gate.md``, ``gate.json`` and ``gate.png`` (each atomically) into ``report_dir``."""
    from kfops.gate.plot import render_png

    output_dir(report_dir, "report directory")
    markdown = render_markdown(outcome)
    outputs = {
        "markdown": (report_dir / "gate.md", markdown.encode()),
        "json": (report_dir / "gate.json", (json.dumps(render_json(outcome), indent=2) + "\n").encode()),
        "png": (report_dir / "gate.png", render_png(outcome)),
    }
    for path, data in outputs.values():
        write_atomically(path, data)
    return {name: path for name, (path, _) in outputs.items()}
