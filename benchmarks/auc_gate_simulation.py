"""Benchmark: error rates of the gate's multi-class ROC-AUC test (macro one-vs-rest, DeLong).

Each simulation draws an evaluation set of ``n`` examples over ``K`` classes (class
shares as given) and a shared latent score per example and class: ``signal`` on the
true class plus N(0, 1) noise. Both models see that latent plus their own N(0, s)
noise, so their scores are correlated, as two models trained on the same data are;
the probabilities are the softmax. Equal ``s`` and ``signal`` make equally good
models; the "worse" rows give the candidate more noise or less signal (their true
macro-AUC drop is estimated on one large draw and printed). ``decide(...,
metric="roc_auc", alpha=0.05)`` runs on each draw; the share of draws where it
flags a regression is printed with a 95% Wilson interval, against a target:
false alarms <= 5% for equal models (tolerance 0, or a tolerance the true drop stays
inside), and the power for a worse candidate (reported; targets are loose floors).

PASS/MISS compares the observed rate (not its interval) with the target. Same
``--seed``, same output; the exit code is always 0: this reports, it does not gate.

Usage: ``.venv/bin/python benchmarks/auc_gate_simulation.py [--seed 0] [--sims 4000]``
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from benchmarks.gate_simulation import wilson
from kfops.gate import decide

ALPHA = 0.05


@dataclass(frozen=True)
class Scenario:
    """One simulated setting: classes, models and the target fail rate."""

    name: str
    n: int
    shares: tuple[float, ...]
    noise_b: float
    noise_c: float
    signal_c: float  # the baseline's signal is 1.0
    tolerance: float
    bound: str  # "<=" or ">="
    target: float


def scores(
    rng: np.random.Generator, n: int, shares: tuple[float, ...], noise: tuple[float, float], signal_c: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y, baseline_proba, candidate_proba)`` of one draw."""
    k = len(shares)
    y = rng.choice(k, size=n, p=np.asarray(shares))
    onehot = np.eye(k)[y]
    shared = rng.normal(0.0, 1.0, (n, k))
    out = []
    for signal, sd in ((1.0, noise[0]), (signal_c, noise[1])):
        logits = signal * onehot + shared + rng.normal(0.0, sd, (n, k))
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        out.append(e / e.sum(axis=1, keepdims=True))
    return y, out[0], out[1]


def true_drop(s: Scenario, rng: np.random.Generator) -> float:
    """The macro-AUC difference (candidate - baseline) on one draw of 400,000 examples."""
    y, pb, pc = scores(rng, 400_000, s.shares, (s.noise_b, s.noise_c), s.signal_c)
    return decide(y, y, y, metric="roc_auc", baseline_score=pb, candidate_score=pc).delta


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--sims", type=int, default=4000, help="simulations per scenario")
    args = parser.parse_args()
    flat3, flat4, flat5 = (1 / 3,) * 3, (0.25,) * 4, (0.2,) * 5
    skewed4 = (0.55, 0.25, 0.15, 0.05)
    skewed5 = (0.4, 0.3, 0.15, 0.1, 0.05)
    scenarios = [
        Scenario(
            "K=3 n=1,000 equal               tol 0    (false alarms)", 1000, flat3, 1, 1, 1, 0, "<=", 0.05
        ),
        Scenario(
            "K=4 n=2,000 equal, skewed       tol 0    (false alarms)", 2000, skewed4, 1, 1, 1, 0, "<=", 0.05
        ),
        Scenario(
            "K=5 n=500   equal               tol 0    (false alarms)", 500, flat5, 1, 1, 1, 0, "<=", 0.05
        ),
        Scenario(
            "K=5 n=400   equal, a 5% class   tol 0    (false alarms)", 400, skewed5, 1, 1, 1, 0, "<=", 0.05
        ),
        Scenario(
            "K=3 n=1,000 equal, noisy        tol 0    (false alarms)", 1000, flat3, 2, 2, 1, 0, "<=", 0.05
        ),
        Scenario("K=4 n=2,000 candidate noisier   tol 0    (power)", 2000, flat4, 1, 1.3, 1, 0, ">=", 0.80),
        Scenario("K=3 n=1,000 candidate weaker    tol 0    (power)", 1000, flat3, 1, 1, 0.8, 0, ">=", 0.80),
        Scenario("K=5 n=500   candidate weaker    tol 0    (power)", 500, flat5, 1, 1, 0.8, 0, ">=", 0.50),
        Scenario(
            "K=4 n=2,000 candidate weaker    tol 0.01 (power)", 2000, flat4, 1, 1, 0.8, 0.01, ">=", 0.50
        ),
    ]
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(args.seed).spawn(2 * len(scenarios))]
    y0, p0, _ = scores(streams[0], 30, flat3, (1, 1), 1)
    decide(y0, y0, y0, metric="roc_auc", baseline_score=p0, candidate_score=p0)  # imports outside timings

    print(
        f"gate fail rate for macro one-vs-rest ROC-AUC at alpha = {ALPHA}, seed {args.seed}, "
        f"{args.sims} sims per row (95% Wilson interval)"
    )
    width = max(len(s.name) for s in scenarios)
    print(
        f"{'scenario':<{width}} {'true Δ':>8} {'fails':>6} {'rate':>7}  {'95% interval':<18}  "
        f"{'target':<7} result  ms/sim"
    )
    for i, s in enumerate(scenarios):
        delta = true_drop(s, streams[2 * i + 1])
        rng = streams[2 * i]
        fails, start = 0, time.perf_counter()
        for _ in range(args.sims):
            y, pb, pc = scores(rng, s.n, s.shares, (s.noise_b, s.noise_c), s.signal_c)
            fails += decide(
                y,
                y,
                y,
                metric="roc_auc",
                baseline_score=pb,
                candidate_score=pc,
                tolerance=s.tolerance,
                alpha=ALPHA,
            ).regressed
        seconds = time.perf_counter() - start
        rate = fails / args.sims
        low, high = wilson(fails, args.sims)
        met = rate <= s.target if s.bound == "<=" else rate >= s.target
        print(
            f"{s.name:<{width}} {delta:+8.4f} {fails:>6} {rate:7.2%}  [{low:7.2%}, {high:7.2%}]  "
            f"{s.bound} {s.target:<4.0%} {'PASS' if met else 'MISS'}    {1000 * seconds / args.sims:.1f}"
        )


if __name__ == "__main__":
    main()
