"""Accuracy: paired binary outcomes (exact mid-p McNemar test, Tango's score test).

The interval's bound on the "worse" side matches the test, except at tolerance 0:
there the verdict comes from the exact mid-p McNemar test while the interval is the
(asymptotic) score interval, so with few disagreements the interval may sit just
below 0 while the exact test, more cautious, passes.
"""

from __future__ import annotations

import math

import numpy as np

from components.shared.gate_stats.paired import (
    NORMAL,
    POWER,
    PairedTest,
    monotone_root,
    normal_cdf,
    z_upper,
)


def _mid_p_upper_tail(b: int, m: int) -> float:
    """``P(B > b) + P(B = b) / 2`` for ``B ~ Binomial(m, 1/2)``."""
    from scipy.special import bdtr, bdtrc

    above = float(bdtrc(b, m, 0.5))
    at = float(bdtr(b, m, 0.5)) - (float(bdtr(b - 1, m, 0.5)) if b > 0 else 0.0)
    return above + 0.5 * at


def _restricted_rates(b: int, c: int, n: int, d0: float) -> tuple[float, float]:
    """Maximum-likelihood (p_b, p_c) of the discordant cells under ``p_c - p_b = d0``.

    ``b`` counts examples the baseline gets right and the candidate wrong, ``c``
    the reverse. Setting the score of the multinomial likelihood to zero gives
    ``2n x^2 - B x - b d0 (1 - d0) = 0`` for ``x = p_b`` (Tango 1998).
    """
    s = 1.0 - d0
    r = n - b - c
    big_b = b * (s - 2.0 * d0) + c * s - 2.0 * r * d0
    x = (big_b + math.sqrt(max(big_b * big_b + 8.0 * n * b * d0 * s, 0.0))) / (4.0 * n)
    x = min(max(x, max(0.0, -d0)), (1.0 - d0) / 2.0)
    return x, x + d0


def paired_score_z(b: int, c: int, n: int, d0: float) -> float:
    """Score statistic for ``H0: p_c - p_b = d0`` (large when the candidate is better)."""
    pb, pc = _restricted_rates(b, c, n, d0)
    variance = (pb + pc - d0 * d0) / n
    observed = (c - b) / n
    if variance <= 0.0:
        return 0.0 if math.isclose(observed, d0, abs_tol=1e-15) else math.copysign(math.inf, observed - d0)
    return (observed - d0) / math.sqrt(variance)


def _score_interval(b: int, c: int, n: int, alpha: float) -> tuple[float, float]:
    """Invert the score test: all ``d0`` with ``|z| <= z_(1-alpha)``."""
    z = z_upper(alpha)
    observed = (c - b) / n
    eps = 1e-12

    def bound(target: float, lo: float, hi: float) -> float:
        # z falls from about (observed + 1) * sqrt(n / eps) at d0 = -1 + eps, through 0 at the
        # observed difference, to about -(1 - observed) * sqrt(n / eps) at 1 - eps: each
        # one-sided bound is bracketed whenever the observed difference is not at the end.
        return monotone_root(lambda d0: paired_score_z(b, c, n, d0) - target, lo, hi)

    low = bound(z, -1.0 + eps, observed) if observed > -1.0 + eps else -1.0
    high = bound(-z, observed, 1.0 - eps) if observed < 1.0 - eps else 1.0
    return (low, high)


def accuracy_mde(n: int, discordance: float, alpha: float, tolerance: float = 0.0) -> float:
    """Smallest accuracy drop detected with 80% power (Connor 1987, paired proportions).

    Solves ``sqrt(n) d = z_a sqrt(psi) + z_b sqrt(psi - d^2)`` for ``d``, where
    ``psi`` is the share of examples on which the models disagree in correctness.
    """
    psi = min(max(discordance, 1.0 / n), 1.0)
    za, zb = z_upper(alpha), NORMAL.inv_cdf(POWER)
    g = lambda d: math.sqrt(n) * d - za * math.sqrt(psi) - zb * math.sqrt(max(psi - d * d, 0.0))  # noqa: E731
    top = math.sqrt(psi)
    drop = monotone_root(g, 0.0, top) if g(top) > 0 else top
    return tolerance + drop


def accuracy_test(
    baseline_correct: np.ndarray, candidate_correct: np.ndarray, *, tolerance: float, alpha: float
) -> PairedTest:
    """One-sided paired test of accuracy on per-example correctness.

    With ``tolerance == 0`` this is the exact mid-p McNemar test (the baseline-only
    correct count ``b`` is Binomial(b + c, 1/2) when the models are equally
    accurate). With a tolerance it is the score test of ``delta >= -tolerance``
    (Tango's non-inferiority test for paired proportions).
    """
    base = np.asarray(baseline_correct, dtype=bool)
    cand = np.asarray(candidate_correct, dtype=bool)
    n = len(base)
    b = int(np.count_nonzero(base & ~cand))
    c = int(np.count_nonzero(~base & cand))
    delta = (c - b) / n
    if tolerance == 0.0:
        m = b + c
        # No discordant example: the data carry no evidence of a difference.
        p = 1.0 if m == 0 else _mid_p_upper_tail(b, m)
        method = "exact mid-p McNemar test, one-sided"
    else:
        p = normal_cdf(paired_score_z(b, c, n, -tolerance))
        method = "paired score test against the tolerance (Tango), one-sided"
    discordance = (b + c) / n
    if b + c == 0:  # identical correctness: assume independent errors for the power figure
        accuracy = float(base.mean())
        discordance = 2.0 * accuracy * (1.0 - accuracy)
    return PairedTest(
        baseline=float(base.mean()),
        candidate=float(cand.mean()),
        delta=delta,
        p_value=p,
        ci=_score_interval(b, c, n, alpha),
        mde=accuracy_mde(n, discordance, alpha, tolerance),
        method=method,
    )
