"""The error contract of every command-line entry point."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn

from components.shared.errors import KfopsError, one_line


def run_cli(main: Callable[[], int]) -> int:
    """Run ``main`` and turn a `KfopsError` into one line on stderr and its exit code.

    Bad input exits 2 with ``error: <what is wrong>``, never a traceback; any other
    exception is a bug and keeps its traceback.
    """
    try:
        return main()
    except KfopsError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def exit_process(code: int) -> NoReturn:
    """End the process with ``code`` after the atexit handlers, skipping native teardown.

    pyarrow's thread pool can abort the interpreter's final teardown ("terminate called
    without an active exception", SIGABRT, exit -6) after all work is done
    (apache/arrow#34314); a command that already decided its exit code must not lose it
    that way. Only process entry points call this: it never returns.
    """
    import atexit
    import contextlib
    import os

    try:
        atexit._run_exitfuncs()  # what a normal exit runs first (weakref finalizers, logging)
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
                stream.flush()
        os._exit(code)
