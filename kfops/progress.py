"""Condensing KFP local-run output into one line per task (the full log goes to a file).

While a task runs, its elapsed time shows: on a terminal a spinner line redrawn in
place, otherwise (CI, a pipe) one ``... still running`` line every `QUIET_SECONDS`.
"""

from __future__ import annotations

import io
import re
import threading
import time
from typing import TextIO

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: The query of an https URL may be a credential (a presigned URL): never written to a log.
_URL_QUERY = re.compile(r"(https?://[^\s\"'?]+)\?[^\s\"']*")
_STARTED = re.compile(r"Executing task '([^']+)'")
_FINISHED = re.compile(r"Task '([^']+)' finished with status (\w+)")
_SPINNER = "|/-\\"

#: Without a terminal, a line every this many seconds while a task runs.
QUIET_SECONDS = 10.0


class TaskProgress(io.TextIOBase):
    """A stdout stand-in: copies everything to ``log``, shows task starts and ends on ``out``.

    Args:
        out: Where progress lines go (the real stdout).
        log: Where the full, uncoloured output goes.
        total: Number of tasks in the pipeline (for ``[i/n]``).
        verbose: Also echo every line to ``out`` (then no elapsed-time ticker).
        tty: Whether ``out`` is a terminal (default: ask it).
        every: Seconds between ``still running`` lines without a terminal.

    Attributes:
        finished: Status of each finished task.
        seconds: Wall time of each finished task.
    """

    def __init__(
        self,
        out: TextIO,
        log: TextIO,
        total: int,
        verbose: bool = False,
        *,
        tty: bool | None = None,
        every: float = QUIET_SECONDS,
    ) -> None:
        super().__init__()
        self._out, self._log, self._total, self._verbose = out, log, total, verbose
        self._buffer = ""
        self._started: dict[str, float] = {}
        self.finished: dict[str, str] = {}
        self.seconds: dict[str, float] = {}
        self._tty = _is_tty(out) if tty is None else tty
        self._every = every
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._drawn = False  # a spinner line is on screen (a terminal only)
        self._ticker: threading.Thread | None = None
        if not verbose:
            self._ticker = threading.Thread(target=self._tick, name="kfops-progress", daemon=True)
            self._ticker.start()

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

    def close(self) -> None:
        """Stop the elapsed-time ticker (and clear its line)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
        with self._lock:
            self._clear()

    def _running(self) -> list[tuple[str, float]]:
        return [(n, t) for n, t in self._started.items() if n not in self.finished]

    def _tick(self) -> None:
        frame, last_line = 0, time.monotonic()
        while not self._stop.wait(0.2 if self._tty else min(1.0, self._every)):
            with self._lock:
                running = self._running()
                if not running:
                    last_line = time.monotonic()
                    continue
                now = time.monotonic()
                text = ", ".join(f"{name} {now - started:.0f} s" for name, started in running)
                if self._tty:
                    frame += 1
                    self._out.write(f"\r\x1b[2K  {_SPINNER[frame % 4]} running {text}")
                    self._drawn = True
                    self._out.flush()
                elif now - last_line >= self._every:
                    self._out.write(f"  ... running {text}\n")
                    self._out.flush()
                    last_line = now

    def _clear(self) -> None:
        if self._drawn:
            self._out.write("\r\x1b[2K")
            self._drawn = False

    def _line(self, line: str) -> None:
        self._log.write(line + "\n")
        if self._verbose:
            self._out.write(line + "\n")
            return
        with self._lock:
            if match := _STARTED.search(line):
                self._started[match.group(1)] = time.monotonic()
            elif match := _FINISHED.search(line):
                name, status = match.groups()
                self.finished[name] = status
                seconds = time.monotonic() - self._started.get(name, time.monotonic())
                self.seconds[name] = seconds
                mark = "ok" if status == "SUCCESS" else status.lower()
                self._clear()
                self._out.write(
                    f"  [{len(self.finished)}/{self._total}] {name:<16} {mark:<8} {seconds:5.1f} s\n"
                )
                self._out.flush()


def _is_tty(out: TextIO) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError):
        return False
