"""Errors that carry a one-line message for the user, and how tasks report them."""

from __future__ import annotations

import os
import re

#: Exit code for bad usage or bad input (the convention of argparse and of `kfops`).
EXIT_INPUT = 2

#: When set (by `kfops run`), a failing task appends its one-line error here, so
#: the parent process can print the reason instead of a task's traceback.
ERROR_FILE_ENV = "KFOPS_ERROR_FILE"


class KfopsError(Exception):
    """Base class: an error whose message is fit to show as-is, on one line."""

    exit_code = 1


class InputError(KfopsError, ValueError):
    """The input (a file, a parameter, a dataset) is unusable as given."""

    exit_code = EXIT_INPUT


class StoreError(KfopsError):
    """The store cannot be read or written (missing, unwritable, unreachable)."""

    exit_code = EXIT_INPUT


class ObjectExistsError(StoreError):
    """An immutable object already exists; it is never overwritten."""


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_NUMPY_REPR = re.compile(r"\bnp\.(?:u?int|float|bool|str|complex|bytes)\w*\(([^()]*)\)")
#: Longest message shown (a message quoting a whole input must not flood the terminal).
MAX_MESSAGE = 1000


def _printable(char: str) -> str:
    if char.isprintable() or char in " \t\n\r":
        return char
    return f"\\x{ord(char):02x}" if ord(char) < 256 else f"\\u{ord(char):04x}"


def one_line(message: object) -> str:
    """A message as one plain line: whitespace collapsed, no colour codes, no control bytes,
    numpy scalars as plain values (``1``, not ``np.int64(1)``), at most `MAX_MESSAGE` characters."""
    text = _NUMPY_REPR.sub(r"\1", _ANSI.sub("", str(message)))
    text = " ".join("".join(_printable(c) for c in text).split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."


def report_failure(error: KfopsError, task: str) -> None:
    """Record a task's error (exit code, tab, ``task: message``) for the launcher, if any."""
    path = os.environ.get(ERROR_FILE_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{error.exit_code}\t{task}: {one_line(error)}\n")
