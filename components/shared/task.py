"""Glue used inside KFP component bodies (kept tiny: it runs in every task)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from components.shared.errors import KfopsError, one_line, report_failure


@contextlib.contextmanager
def reported(task: str) -> Iterator[None]:
    """Report a `KfopsError` raised in a task body to the launcher, then re-raise it.

    The task still fails (so KFP marks it failed and nothing downstream runs); the
    launcher (`kfops run`) prints the one-line reason instead of a traceback.
    """
    try:
        yield
    except KfopsError as exc:
        report_failure(exc, task)
        print(f"error: {one_line(exc)}")
        raise
