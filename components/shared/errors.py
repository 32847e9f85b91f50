"""Errors that carry a one-line message for the user, and how tasks report them."""

from __future__ import annotations

import os

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


def one_line(message: object) -> str:
    """Collapse a message onto one line (exception texts often span several)."""
    return " ".join(str(message).split())


def report_failure(error: KfopsError, task: str) -> None:
    """Record a task's error (exit code, tab, ``task: message``) for the launcher, if any."""
    path = os.environ.get(ERROR_FILE_ENV)
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{error.exit_code}\t{task}: {one_line(error)}\n")
