"""The performance gate: paired statistics on a frozen evaluation set.

Use from Python::

    from kfops.gate import decide
    decision = decide(y_true, baseline_pred, candidate_pred, metric="accuracy", tolerance=0.0)
    decision.regressed, decision.delta, decision.p_value, decision.ci, decision.mde
"""

from components.shared.gate_stats.decide import Decision, decide
from components.shared.gate_stats.metrics import METRICS

__all__ = ["METRICS", "Decision", "decide"]
