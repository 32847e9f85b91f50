"""The git commit and branch a run comes from (empty outside a git checkout)."""

from __future__ import annotations

import os
import subprocess


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def current_commit() -> str:
    """``GITHUB_SHA`` in GitHub Actions, else ``git rev-parse HEAD``."""
    return os.environ.get("GITHUB_SHA") or _git("rev-parse", "HEAD")


def current_ref() -> str:
    """The branch name (``GITHUB_HEAD_REF``/``GITHUB_REF_NAME`` in GitHub Actions)."""
    return (
        os.environ.get("GITHUB_HEAD_REF")
        or os.environ.get("GITHUB_REF_NAME")
        or _git("rev-parse", "--abbrev-ref", "HEAD")
    )
