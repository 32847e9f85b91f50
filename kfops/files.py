"""Local files written as a reader expects: whole or not at all, with temp names no two processes share."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from components.shared.errors import InputError


def temp_name(path: Path) -> Path:
    """A temporary sibling of ``path``, unique per process and call, keeping its suffix."""
    return path.with_name(f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}-{path.name}")


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``, else it is removed."""
    tmp = temp_name(path)
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a unique temporary file and a rename."""
    with replacing(path) as tmp:
        tmp.write_bytes(data)


def output_dir(path: Path, what: str, *, create: bool = True) -> Path:
    """Create directory ``path`` (and parents) for output, or say in one line why it cannot be.

    With ``create=False`` only check (before any work) that it could be created.

    Raises:
        InputError: ``path`` or one of its parents is a file, or it cannot be created.
    """
    if path.exists() and not path.is_dir():
        raise InputError(f"{what} {path} exists and is not a directory")
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"cannot create {what} {path}: {parent} is a file")
            break
    if not create:
        return path
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {what} {path}: {exc.strerror or exc}") from None
    return path
