"""Recurring runs that kfops manages: how they are named, and which version they run.

One definition for ``kfops deploy``/``rollback`` (which create them) and the retrain
trigger (which starts the version they run).
"""

from __future__ import annotations

import json
from typing import Any

from components.shared.names import MANAGED_PREFIX, PROJECT


def managed(display_name: str, description: str | None) -> tuple[str, str] | None:
    """``(schedule name, fingerprint)`` of a recurring run kfops manages, else ``None``.

    A managed run has the display name ``kfops:<name>`` and a JSON description with
    ``"kfops": true``; runs made by hand are never touched.
    """
    facts = _facts(display_name, description)
    return (display_name.removeprefix(MANAGED_PREFIX), str(facts.get("fingerprint", ""))) if facts else None


def managed_pipeline(run: Any) -> str | None:
    """The pipeline a managed recurring run runs, else ``None``."""
    facts = _facts(run.display_name or "", run.description)
    return str(facts.get("pipeline")) if facts else None


def scheduled_version(runs: list[Any], pipeline: str) -> str | None:
    """The version id kfops' recurring runs of ``pipeline`` use (what deploy or rollback chose)."""
    for run in runs:
        if managed_pipeline(run) == pipeline and run.pipeline_version_reference:
            return str(run.pipeline_version_reference.pipeline_version_id)
    return None


def _facts(display_name: str, description: str | None) -> dict[str, Any] | None:
    if not display_name.startswith(MANAGED_PREFIX):
        return None
    try:
        facts = json.loads(description or "{}")
    except json.JSONDecodeError:
        return None
    return facts if isinstance(facts, dict) and facts.get(PROJECT) else None
