"""Condensing KFP local-run output into one line per task (the full log goes to a file)."""

from __future__ import annotations

import io
import re
import time
from typing import TextIO

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: The query of an https URL may be a credential (a presigned URL): never written to a log.
_URL_QUERY = re.compile(r"(https?://[^\s\"'?]+)\?[^\s\"']*")
_STARTED = re.compile(r"Executing task '([^']+)'")
_FINISHED = re.compile(r"Task '([^']+)' finished with status (\w+)")


class TaskProgress(io.TextIOBase):
    """A stdout stand-in: copies everything to ``log``, shows task starts and ends on ``out``.

    Args:
        out: Where progress lines go (the real stdout).
        log: Where the full, uncoloured output goes.
        total: Number of tasks in the pipeline (for ``[i/n]``).
        verbose: Also echo every line to ``out``.
    """

    def __init__(self, out: TextIO, log: TextIO, total: int, verbose: bool = False) -> None:
        super().__init__()
        self._out, self._log, self._total, self._verbose = out, log, total, verbose
        self._buffer = ""
        self._started: dict[str, float] = {}
        self.finished: dict[str, str] = {}

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            self._line(_URL_QUERY.sub(r"\1?<redacted>", _ANSI.sub("", line)))
        return len(text)

    def flush(self) -> None:
        self._log.flush()
        self._out.flush()

    def _line(self, line: str) -> None:
        self._log.write(line + "\n")
        if self._verbose:
            self._out.write(line + "\n")
            return
        if match := _STARTED.search(line):
            self._started[match.group(1)] = time.monotonic()
        elif match := _FINISHED.search(line):
            name, status = match.groups()
            self.finished[name] = status
            seconds = time.monotonic() - self._started.get(name, time.monotonic())
            mark = "ok" if status == "SUCCESS" else status.lower()
            self._out.write(f"  [{len(self.finished)}/{self._total}] {name:<16} {mark:<8} {seconds:5.1f} s\n")
            self._out.flush()
