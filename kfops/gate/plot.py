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
        sign = 1.0 if d.higher_is_better else -1.0  # plot "gain": right is better for every metric
        gain, low, high = (
            sign * d.delta,
            sorted((sign * d.ci[0], sign * d.ci[1]))[0],
            sorted((sign * d.ci[0], sign * d.ci[1]))[1],
        )
        colour = "#c0392b" if item.failed else ("#e67e22" if d.regressed else "#2e86c1")
        left.errorbar(gain, row, xerr=[[gain - low], [high - gain]], fmt="o", color=colour, capsize=4)
        if item.rule.gate and d.tolerance > 0:
            left.plot([-d.tolerance] * 2, [row - 0.3, row + 0.3], color="grey", linestyle=":")
    left.axvline(0.0, color="black", linewidth=0.8)
    left.set_yticks(
        range(len(computed)), [m.rule.name + (" (gated)" if m.rule.gate else "") for m in computed]
    )
    left.set_xlabel("candidate vs baseline (right = better), with interval")
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
