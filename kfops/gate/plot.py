"""The gate's PNG: each metric's difference with its interval, and per-class recall change."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kfops.gate.report import GateOutcome


def render_png(outcome: GateOutcome) -> bytes:
    """Render the plot and return PNG bytes (headless, deterministic layout)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    computed = [m for m in outcome.metrics if m.decision is not None]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [3, 2]})
    left, right = axes
    for row, item in enumerate(computed):
        d = item.decision
        assert d is not None
        # The table's sign: candidate - baseline (so log loss up = worse, as in gate.md).
        low, high = sorted(d.ci)
        colour = "#c0392b" if item.failed else ("#e67e22" if d.regressed else "#2e86c1")
        left.errorbar(
            d.delta, row, xerr=[[d.delta - low], [high - d.delta]], fmt="o", color=colour, capsize=4
        )
        if item.rule.gate and d.tolerance > 0:
            limit = -d.tolerance if d.higher_is_better else d.tolerance
            left.plot([limit] * 2, [row - 0.3, row + 0.3], color="grey", linestyle=":")
    left.axvline(0.0, color="black", linewidth=0.8)
    left.set_yticks(
        range(len(computed)),
        [
            m.rule.name
            + (" (gated)" if m.rule.gate else "")
            + ("" if m.decision is None or m.decision.higher_is_better else "\n(lower is better)")
            for m in computed
        ],
    )
    left.set_xlabel("candidate - baseline (as in the table), with interval")
    left.set_title(f"{outcome.pipeline}: {outcome.verdict.upper()}  (n = {outcome.n:,})")
    if outcome.per_class:
        names = sorted(outcome.per_class)
        change = [outcome.per_class[c]["candidate"] - outcome.per_class[c]["baseline"] for c in names]
        right.barh(range(len(names)), change, color=["#c0392b" if v < 0 else "#27ae60" for v in change])
        right.set_yticks(range(len(names)), names)
        right.axvline(0.0, color="black", linewidth=0.8)
        right.set_xlabel("recall change per class")
    else:
        right.axis("off")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
