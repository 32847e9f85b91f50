"""Where kfops keeps local state, read once from the environment.

The embedded default store is ``.kfops/store`` under the current directory (the
repository root when used as documented); ``KFOPS_STORE`` or ``--store``
overrides it with another directory or ``s3://bucket/prefix``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from components.shared.errors import InputError

STATE_DIR = ".kfops"


@dataclass(frozen=True)
class Settings:
    """Local paths and defaults.

    Attributes:
        store: Store URI used when none is given.
        store_is_default: Whether ``store`` is the embedded default (created on demand).
        runs_dir: KFP local pipeline root (task artifacts and logs of local runs).
    """

    store: str
    store_is_default: bool
    runs_dir: Path

    @classmethod
    def from_env(cls) -> Settings:
        """Read ``KFOPS_STORE`` and ``KFOPS_HOME`` (default: ``./.kfops``)."""
        home = Path(os.environ.get("KFOPS_HOME", STATE_DIR)).expanduser().resolve()
        if home.exists() and not home.is_dir():
            raise InputError(f"KFOPS_HOME {home} is not a directory")
        store = os.environ.get("KFOPS_STORE", "")
        return cls(store=store or str(home / "store"), store_is_default=not store, runs_dir=home / "runs")
