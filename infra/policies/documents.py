"""What every policy document is: a version and a list of statements, as plain dicts."""

from __future__ import annotations

from typing import Any

Policy = dict[str, Any]


def document(*statements: dict[str, Any]) -> Policy:
    """A policy document (version ``2012-10-17``) holding ``statements`` in order."""
    return {"Version": "2012-10-17", "Statement": list(statements)}
