"""The error contract of every command-line entry point."""

from __future__ import annotations

import sys
from collections.abc import Callable

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
