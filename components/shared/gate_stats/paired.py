"""What every paired test returns, and the normal-theory pieces they share (stdlib only).

Every test of this package is one-sided: it asks whether the data show, at level
``alpha``, that the candidate is worse than the baseline by more than ``tolerance``.
Each returns a `PairedTest`: the observed difference (candidate - baseline), a
one-sided p-value, a two-sided ``1 - 2*alpha`` interval and the minimum detectable
effect: the true drop that would be caught with 80% power at this sample size.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

# scipy.stats and scipy.optimize cost ~1.5 s to import here; the gate needs only a
# normal distribution (stdlib), a binomial tail (scipy.special) and monotone root
# finding, so it uses those directly and stays fast to start.
NORMAL = NormalDist()

POWER = 0.80
BOOTSTRAP_DRAWS = 2000
BOOTSTRAP_SEED = 0  # fixed: the same inputs always give the same verdict


@dataclass(frozen=True)
class PairedTest:
    """The outcome of one paired comparison.

    Attributes:
        baseline: Metric value of the baseline.
        candidate: Metric value of the candidate.
        delta: ``candidate - baseline``.
        p_value: One-sided p-value of "worse by more than the tolerance".
        ci: ``(low, high)`` interval of ``delta`` at level ``1 - 2*alpha``.
        mde: Smallest true drop (absolute, tolerance included) detected with 80% power.
        method: The test used, in words.
    """

    baseline: float
    candidate: float
    delta: float
    p_value: float
    ci: tuple[float, float]
    mde: float
    method: str


def z_upper(alpha: float) -> float:
    """The standard normal quantile ``z_(1-alpha)``."""
    return NORMAL.inv_cdf(1.0 - alpha)


def normal_cdf(z: float) -> float:
    """The standard normal distribution function, exact at ``-inf`` and ``+inf``."""
    if math.isinf(z):
        return 0.0 if z < 0 else 1.0
    return NORMAL.cdf(z)


def monotone_root(f: Callable[[float], float], lo: float, hi: float, tol: float = 1e-12) -> float:
    """Root of a monotone ``f`` on ``[lo, hi]`` whose ends have opposite signs (bisection)."""
    f_lo = f(lo)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        f_mid = f(mid)
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
        if hi - lo < tol:
            break
    return 0.5 * (lo + hi)


def normal_test(
    baseline: float,
    candidate: float,
    se: float,
    *,
    higher_is_better: bool,
    tolerance: float,
    alpha: float,
    method: str,
) -> PairedTest:
    """One-sided test of "worse by more than ``tolerance``" from a paired standard error."""
    delta = candidate - baseline
    gain = delta if higher_is_better else -delta  # > 0 means the candidate is better
    p = normal_cdf((gain + tolerance) / se) if se > 0.0 else 0.0 if gain < -tolerance else 1.0
    half = z_upper(alpha) * se
    # With no variation in the paired differences (e.g. identical predictions) the
    # data say nothing about power: the figure is unknown, not zero.
    mde = tolerance + (z_upper(alpha) + NORMAL.inv_cdf(POWER)) * se if se > 0 else math.nan
    return PairedTest(baseline, candidate, delta, p, (delta - half, delta + half), mde, method)
