"""Values as people write them in messages: ``7.0``, ``'a'``, never ``np.float64(7.0)``."""

from __future__ import annotations

import contextlib
from typing import Any


def plain(value: Any) -> str:
    """``repr`` of ``value`` with NumPy and pandas scalars turned into Python ones first."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__.split(".")[0] in ("numpy", "pandas"):
        with contextlib.suppress(ValueError, TypeError):
            value = item()
    return repr(value)
