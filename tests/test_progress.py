"""Progress of a local run: elapsed time while a task runs, each task's time at the end."""

from __future__ import annotations

import io
import time

from kfops.progress import TaskProgress
from kfops.report import run_summary


def _run_one_task(tty: bool, seconds: float) -> tuple[str, TaskProgress]:
    out, log = io.StringIO(), io.StringIO()
    progress = TaskProgress(out, log, total=1, tty=tty, every=0.3)
    progress.write("Executing task 'train'\n")
    time.sleep(seconds)
    progress.write("Task 'train' finished with status SUCCESS\n")
    progress.close()
    return out.getvalue(), progress


def test_without_a_terminal_a_long_task_prints_a_line_every_few_seconds() -> None:
    out, progress = _run_one_task(tty=False, seconds=1.3)
    running = [line for line in out.splitlines() if line.startswith("  ... running train ")]
    assert 2 <= len(running) <= 5, out
    assert "\r" not in out  # no terminal control in a log or a pipe
    assert out.splitlines()[-1].startswith("  [1/1] train") and progress.seconds["train"] >= 1.3


def test_on_a_terminal_a_spinner_shows_the_elapsed_time_and_is_cleared() -> None:
    out, _ = _run_one_task(tty=True, seconds=0.7)
    assert "\r\x1b[2K  " in out and " running train 0 s" in out
    assert out.endswith("s\n") and "[1/1] train" in out.rsplit("\r\x1b[2K", 1)[1]


def test_a_quick_task_prints_no_running_line_and_the_summary_lists_each_task() -> None:
    out, _ = _run_one_task(tty=False, seconds=0.0)
    assert "running" not in out
    summary = run_summary("training", 1.0, {"run_name": "r"}, "log", {"ingest": 1.25, "train": 3.5})
    assert "  tasks    ingest 1.2 s, train 3.5 s" in summary and "(run r)" in summary
    assert "(run ?)" not in run_summary("inference", 1.0, {}, "log")
