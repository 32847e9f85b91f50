"""Glue used inside KFP component bodies (kept tiny: it runs in every task)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from components.shared.errors import InputError, KfopsError, one_line, report_failure


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
    except (UnicodeDecodeError, ValueError) as exc:
        known = known_input_problem(exc)
        if known is None:
            raise
        report_failure(known, task)
        print(f"error: {one_line(known)}")
        raise known from exc


def known_input_problem(exc: Exception) -> InputError | None:
    """The input problem behind a library's exception on bad data, if it is one we know."""
    if isinstance(exc, UnicodeDecodeError):
        return InputError(f"input is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at {exc.start})")
    text = str(exc)
    if "infinity" in text.lower() or "too large for dtype" in text:
        return InputError(f"input contains infinity or a value too large: {one_line(text)[:200]}")
    if "contains NaN" in text:
        return InputError(
            f"input contains missing values (NaN) where none are allowed: {one_line(text)[:200]}"
        )
    return None
