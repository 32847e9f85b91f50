"""Benchmark: the gate's error rates, by simulating `components.shared.gate_stats.decide` on synthetic data.

Each simulation draws a binary evaluation set (``y_true`` balanced at random) and
two models whose per-example correctness is drawn independently with the given
accuracies (independent errors); a model's prediction is ``y_true`` where it is
correct and the other label where it is not. ``decide(..., metric="accuracy",
alpha=0.05)`` is called on each draw and the share of draws where the gate fails
(``regressed``) is printed with a 95% Wilson interval, against a target:

* equal accuracies (90% vs 90%, n = 2,000, tolerance 0): fail rate <= 7% (false alarms);
* a 3-point drop (90% vs 87%, n = 2,000, tolerance 0): fail rate >= 85% (power);
* a drop within the tolerance (90% vs 89.8%, n = 200,000, tolerance 0.005): fail rate <= 5%;
* a drop well beyond it (90% vs 88%, n = 200,000, tolerance 0.005): fail rate >= 99%;
* "never fails when the candidate's observed accuracy is not lower": random tables
  (n from 1 to 5,000, log-uniform, plus n = 1..3; accuracies from 0 to 1; tolerance
  0 and 0.01; half with independent errors, half with the candidate a copy of the
  baseline's correctness with a few flips, which gives few or no discordant
  examples). Only draws where the candidate's observed accuracy is >= the baseline's
  count; target: 0 failures among them.

PASS/MISS compares the observed rate (not its interval) with the target; the
interval shows how far the simulation can be trusted. Same ``--seed``, same
output. The exit code is always 0: this reports, it does not gate.

Usage: ``.venv/bin/python benchmarks/gate_simulation.py [--seed 0] [--sims 5000] [--big-sims 1000]
[--table-sims 10000]``
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from kfops.gate import decide

ALPHA = 0.05
#: Elements per generated batch (sims x n), to keep memory flat at n = 200,000.
BATCH_ELEMENTS = 10_000_000


@dataclass(frozen=True)
class Scenario:
    """One simulated setting and its target fail rate."""

    name: str
    n: int
    baseline_accuracy: float
    candidate_accuracy: float
    tolerance: float
    bound: str  # "<=" or ">="
    target: float


@dataclass(frozen=True)
class Row:
    """The outcome of one scenario."""

    name: str
    fails: int
    sims: int
    bound: str
    target: float
    seconds: float

    @property
    def rate(self) -> float:
        return self.fails / self.sims if self.sims else math.nan

    @property
    def met(self) -> bool:
        if not self.sims:
            return False
        return self.rate <= self.target if self.bound == "<=" else self.rate >= self.target


def wilson(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a binomial proportion."""
    if trials == 0:
        return (0.0, 1.0)
    p = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def draws(
    rng: np.random.Generator, sims: int, n: int, acc_b: float, acc_c: float
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(y_true, baseline_pred, candidate_pred)`` per simulation, generated in vectorised batches."""
    batch = max(1, min(sims, BATCH_ELEMENTS // n))
    done = 0
    while done < sims:
        size = min(batch, sims - done)
        y = rng.integers(0, 2, size=(size, n), dtype=np.int8)
        base = np.where(rng.random((size, n)) < acc_b, y, 1 - y)
        cand = np.where(rng.random((size, n)) < acc_c, y, 1 - y)
        for i in range(size):
            yield y[i], base[i], cand[i]
        done += size


def simulate(scenario: Scenario, sims: int, rng: np.random.Generator) -> Row:
    start = time.perf_counter()
    fails = 0
    for y, base, cand in draws(
        rng, sims, scenario.n, scenario.baseline_accuracy, scenario.candidate_accuracy
    ):
        fails += decide(y, base, cand, metric="accuracy", tolerance=scenario.tolerance, alpha=ALPHA).regressed
    return Row(scenario.name, fails, sims, scenario.bound, scenario.target, time.perf_counter() - start)


def never_fails_when_not_lower(sims: int, rng: np.random.Generator) -> tuple[Row, list[str]]:
    """Random tables: failures among draws where the candidate's observed accuracy is not lower."""
    start = time.perf_counter()
    fails, eligible, examples = 0, 0, []
    accuracies = np.array([0.0, 0.5, 0.9, 0.99, 1.0])
    for i in range(sims):
        n = int(rng.integers(1, 4)) if i % 10 == 0 else round(math.exp(rng.uniform(0, math.log(5000))))
        tolerance = 0.0 if i % 2 == 0 else 0.01
        # A fifth of the accuracies are edge values (0, 0.5, 0.9, 0.99, 1), the rest uniform.
        acc_b, acc_c = (
            float(rng.choice(accuracies)) if rng.random() < 0.2 else float(rng.uniform()) for _ in range(2)
        )
        y = rng.integers(0, 2, size=n, dtype=np.int8)
        base_ok = rng.random(n) < acc_b
        if i % 4 < 2:  # independent errors
            cand_ok = rng.random(n) < acc_c
        else:  # correlated: the baseline's correctness with a few flips (often no discordance)
            cand_ok = base_ok ^ (rng.random(n) < rng.choice([0.0, 0.001, 0.01, 0.05]))
        if cand_ok.sum() < base_ok.sum():
            continue
        eligible += 1
        base = np.where(base_ok, y, 1 - y)
        cand = np.where(cand_ok, y, 1 - y)
        decision = decide(y, base, cand, metric="accuracy", tolerance=tolerance, alpha=ALPHA)
        if decision.regressed:
            fails += 1
            if len(examples) < 5:
                b, c = int((base_ok & ~cand_ok).sum()), int((~base_ok & cand_ok).sum())
                examples.append(
                    f"n={n} tolerance={tolerance} b={b} c={c}: delta={decision.delta:+.4f} "
                    f"p={decision.p_value:.3g}"
                )
    row = Row(
        "random tables, candidate not lower (n 1-5000)",
        fails,
        eligible,
        "<=",
        0.0,
        time.perf_counter() - start,
    )
    return row, examples


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--sims", type=int, default=5000, help="simulations per n = 2,000 scenario")
    parser.add_argument("--big-sims", type=int, default=1000, help="simulations per n = 200,000 scenario")
    parser.add_argument("--table-sims", type=int, default=10000, help="random tables drawn (about 2/3 count)")
    args = parser.parse_args()

    scenarios = [
        (
            Scenario("n=2,000   90% vs 90%   tol 0     (false alarms)", 2000, 0.90, 0.90, 0.0, "<=", 0.07),
            args.sims,
        ),
        (Scenario("n=2,000   90% vs 87%   tol 0     (power)", 2000, 0.90, 0.87, 0.0, ">=", 0.85), args.sims),
        (
            Scenario(
                "n=200,000 90% vs 89.8% tol 0.005 (within tol.)", 200_000, 0.90, 0.898, 0.005, "<=", 0.05
            ),
            args.big_sims,
        ),
        (
            Scenario(
                "n=200,000 90% vs 88%   tol 0.005 (beyond tol.)", 200_000, 0.90, 0.88, 0.005, ">=", 0.99
            ),
            args.big_sims,
        ),
    ]
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(args.seed).spawn(len(scenarios) + 1)]
    decide([0, 1], [0, 1], [0, 1])  # imports (pandas, scipy) outside the timings

    start = time.perf_counter()
    rows = [simulate(scenario, sims, rng) for (scenario, sims), rng in zip(scenarios, streams, strict=False)]
    table_row, examples = never_fails_when_not_lower(args.table_sims, streams[-1])
    rows.append(table_row)
    total = time.perf_counter() - start

    print(f"gate fail rate at alpha = {ALPHA}, seed {args.seed} (95% Wilson interval)")
    width = max(len(r.name) for r in rows)
    header = f"{'sims':>6} {'fails':>6} {'rate':>7}  {'95% interval':<18}  {'target':<7} result"
    print(f"{'scenario':<{width}} {header}")
    for r in rows:
        low, high = wilson(r.fails, r.sims)
        print(
            f"{r.name:<{width}} {r.sims:>6} {r.fails:>6} {r.rate:7.2%}  [{low:7.2%}, {high:7.2%}]  "
            f"{r.bound} {r.target:<4.0%} {'PASS' if r.met else 'MISS'}"
        )
    for example in examples:
        print(f"  failure with candidate not lower: {example}")
    print(f"simulation time {total:.1f} s ({', '.join(f'{r.seconds:.1f}' for r in rows)} s per row)")


if __name__ == "__main__":
    main()
