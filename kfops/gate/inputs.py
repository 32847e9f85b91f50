"""What ``--baseline`` / ``--candidate`` name: a predictions file, a run record, or a run id.

* a predictions file or URI (an evaluation record, or CSV/Parquet with ``y_true,y_pred``);
* a run record: the JSON of ``kfops metrics show RUN`` saved to a file (its ``evaluation_uri``);
* a run id or run name (or a unique prefix), looked up in the store's metrics records,
  as ``kfops metrics show`` takes it.

Whatever names an input, its run record (when the store has one) supplies the model
name and version the report's headers show.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from components.shared.errors import InputError, KfopsError

#: Run-record fields that describe an input in the reports.
INFO_KEYS = ("run_id", "run_name", "git_ref", "git_commit", "model_name", "model_version")


def _records(store: str, pipeline: str) -> list[dict[str, Any]]:
    from components.metrics_store.io import list_records

    try:
        return list_records(store, pipeline)
    except KfopsError:  # no store here, or not readable: the input still works, just less described
        return []


def _info(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record.get(k) for k in INFO_KEYS if record.get(k)}


def _run_record_file(spec: str) -> dict[str, Any] | None:
    if not spec.lower().endswith(".json") or "://" in spec:
        return None
    try:
        value = json.loads(Path(spec).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read run record {spec}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{spec} is not JSON ({exc.msg}); expected a run record") from None
    if not isinstance(value, dict) or not value.get("evaluation_uri"):
        raise InputError(f"{spec} is not a run record (no evaluation_uri); see `kfops metrics show RUN`")
    return value


def resolve_input(
    spec: str, store: str, pipeline: str, *, allow_branch: bool = False
) -> tuple[str, dict[str, Any]] | None:
    """The evaluation URI ``spec`` names, and what describes it (model, version, run).

    Returns:
        ``(uri, info)``; ``None`` when ``allow_branch`` and ``spec`` is no file, record or run
        (then it is a branch name).

    Raises:
        InputError: A run record without an evaluation record, an unknown or ambiguous run.
    """
    from kfops.gate.run import is_file_spec

    record = _run_record_file(spec)
    if record is not None:
        return str(record["evaluation_uri"]), _info(record)
    records = _records(store, pipeline)
    if is_file_spec(spec):
        same = [r for r in records if _same_uri(str(r.get("evaluation_uri", "")), spec)]
        return spec, _info(same[-1]) if same else {}
    matches = [
        r
        for r in records
        if str(r.get("run_id", "")).startswith(spec) or str(r.get("run_name", "")).startswith(spec)
    ]
    exact = [r for r in matches if spec in (r.get("run_id"), r.get("run_name"))]
    chosen = exact or matches
    if len(chosen) == 1 and chosen[0].get("evaluation_uri"):
        return str(chosen[0]["evaluation_uri"]), _info(chosen[0])
    if len(chosen) > 1:
        raise InputError(f"{spec!r} matches {len(chosen)} runs; give more of the run id")
    if allow_branch:
        return None
    raise InputError(
        f"{spec!r} is neither a predictions file, a run record (JSON) nor a run id or name "
        f"in {store} (pipeline {pipeline})"
    )


def _same_uri(left: str, right: str) -> bool:
    if left == right:
        return True
    if "://" in left or "://" in right:
        return False
    try:
        return Path(left).resolve() == Path(right).resolve()
    except OSError:
        return False
