"""What every command does with its output: a reader that stops early ends it quietly."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import KFOPS, REPO


def _closed_early(*args: str) -> subprocess.CompletedProcess[bytes]:
    """Run ``kfops ARGS`` with its stdout a pipe whose reader is gone (as ``| head`` after a line)."""
    process = subprocess.Popen([*KFOPS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the command writes anything: its first write meets EPIPE
    err = process.stderr.read()
    return subprocess.CompletedProcess(args, process.wait(timeout=120), b"", err)


@pytest.fixture
def long_history(tmp_path: Path) -> Path:
    """A store whose model has many promotion records (far more output than a pipe holds)."""
    folder = tmp_path / "store" / "models" / "m" / "champion-history"
    folder.mkdir(parents=True)
    for generation in range(1, 400):
        record = {"model_name": "m", "version": f"v{generation}", "generation": generation, "pad": "x" * 200}
        (folder / f"{generation:08d}.json").write_text(json.dumps(record))
    return tmp_path / "store"


@pytest.mark.parametrize(
    "command", [("champion", "history", "m"), ("images", "list"), ("--help",), ("--version",)]
)
def test_a_reader_that_stops_early_ends_the_command_quietly(
    long_history: Path, command: tuple[str, ...]
) -> None:
    args = (*command, "--store", str(long_history)) if command[0] == "champion" else command
    result = _closed_early(*args)
    assert result.returncode == 0, result.stderr.decode()
    assert b"Traceback" not in result.stderr and b"BrokenPipeError" not in result.stderr
    assert result.stderr == b""
