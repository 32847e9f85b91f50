"""Accuracy's minimum detectable effect on the smallest evaluation sets.

Between ``n = 3`` and ``n = 6`` (at alpha 0.05) a drop of ``sqrt(psi)`` reaches 80% power only
just, so the power equation has a root a little below ``sqrt(psi)``; the MDE must be that root,
not the largest possible drop. (Listed only for gate_stats/accuracy.py's mutation run, so the
other gate modules' sessions stay current.)
"""

from __future__ import annotations

import math

import pytest
from scipy import stats as st

from components.shared.gate_stats.accuracy import accuracy_mde


@pytest.mark.parametrize(("n", "discordance"), [(3, 0.5), (3, 1.0), (4, 0.25), (6, 0.2)])
def test_mde_of_a_barely_large_enough_set_is_the_power_equations_root(n: int, discordance: float) -> None:
    za, zb = st.norm.ppf(0.95), st.norm.ppf(0.8)
    psi = discordance
    top = math.sqrt(psi)
    # the power at a drop of sqrt(psi) is only just reached:
    assert 0 < math.sqrt(psi) * (math.sqrt(n) - za) < 1
    d = accuracy_mde(n, discordance, 0.05)
    assert d < top - 1e-3
    assert math.sqrt(n) * d == pytest.approx(za * math.sqrt(psi) + zb * math.sqrt(psi - d * d), rel=1e-9)
