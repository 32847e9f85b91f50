"""Baseline pointers: per branch, pipeline and evaluation set, moved only by ``promote``.

A pointer lives in the metrics store at
``metrics/<pipeline>/baselines/<branch>/<test fingerprint>.json`` and names a
run record and its evaluation record. Every promotion is also kept, never
overwritten, under ``.../history/``, so a pointer's past can be audited.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from components.metrics_store.core import check_pipeline_name
from components.shared.errors import InputError
from components.shared.names import LAYOUT
from components.shared.store import open_store

BASELINES, HISTORY = "baselines", "history"


def _fingerprint_key(fingerprint: str) -> str:
    return fingerprint.replace(":", "-")


def pointer_key(pipeline: str, branch: str, fingerprint: str) -> str:
    """Store key of a branch's baseline pointer for one evaluation set."""
    if not branch:
        raise InputError("no branch given for the baseline")
    return (
        f"{LAYOUT.metrics}/{check_pipeline_name(pipeline)}/{BASELINES}/"
        f"{quote(branch, safe='')}/{_fingerprint_key(fingerprint)}.json"
    )


def promote(
    store_uri: str,
    pipeline: str,
    branch: str,
    record: dict[str, Any],
    *,
    actor: str = "",
    now: datetime | None = None,
) -> dict[str, Any]:
    """Make ``record`` (a run record) the baseline of ``branch`` for its evaluation set.

    Returns:
        The pointer written.
    """
    fingerprint = record.get("test_fingerprint")
    if not fingerprint or not record.get("evaluation_uri"):
        raise InputError("the run record has no test fingerprint or evaluation record to promote")
    store = open_store(store_uri)
    store.check_writable()
    moment = now or datetime.now(UTC)
    pointer = {
        "pipeline": pipeline,
        "branch": branch,
        "test_fingerprint": fingerprint,
        "run_id": record.get("run_id"),
        "run_name": record.get("run_name"),
        "record_uri": record.get("record_uri"),
        "evaluation_uri": record["evaluation_uri"],
        "metrics": record.get("metrics", {}),
        "model_name": record.get("model_name"),
        "model_version": record.get("model_version"),
        "git_commit": record.get("git_commit"),
        "promoted_at": moment.isoformat(),
        "promoted_by": actor,
    }
    key = pointer_key(pipeline, branch, fingerprint)
    body = json.dumps(pointer, indent=2, sort_keys=True).encode()
    history = key.removesuffix(".json") + f"/{HISTORY}/{moment:%Y%m%dT%H%M%S%fZ}.json"
    store.write(history, body, overwrite=False)
    store.write(key, body)  # atomic replace: readers see the old or the new pointer
    return pointer


def find_baseline(
    store_uri: str, pipeline: str, branch: str, fingerprint: str | None
) -> dict[str, Any] | None:
    """The baseline pointer of ``branch`` for an evaluation set, or ``None``.

    Without a fingerprint (plain prediction files), the branch's only pointer is
    used; several pointers make that ambiguous (an error).
    """
    store = open_store(store_uri)
    if fingerprint:
        key = pointer_key(pipeline, branch, fingerprint)
        return json.loads(store.read(key)) if store.exists(key) else None
    pointers = list_baselines(store_uri, pipeline, branch)
    if len(pointers) > 1:
        raise InputError(
            f"branch {branch!r} has baselines for {len(pointers)} evaluation sets; "
            "compare evaluation records (which carry a fingerprint) instead of plain files"
        )
    return pointers[0] if pointers else None


def list_baselines(store_uri: str, pipeline: str, branch: str | None = None) -> list[dict[str, Any]]:
    """Current baseline pointers of a pipeline (optionally of one branch)."""
    store = open_store(store_uri)
    prefix = f"{LAYOUT.metrics}/{check_pipeline_name(pipeline)}/{BASELINES}"
    if branch:
        prefix += f"/{quote(branch, safe='')}"
    pointers = []
    for key in store.list(prefix):
        parts = key[len(prefix) :].strip("/").split("/")
        if key.endswith(".json") and len(parts) == (1 if branch else 2):
            pointers.append(json.loads(store.read(key)))
    return sorted(pointers, key=lambda p: (unquote(p.get("branch", "")), p.get("test_fingerprint", "")))
