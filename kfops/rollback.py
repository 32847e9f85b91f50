"""``kfops rollback``: point a pipeline's schedules at an earlier version; prune old versions.

Git stays the source of truth: the next deploy of a commit moves the schedules to
that commit's version again, so a rollback is the lever to pull while a revert is
reviewed. Only content-addressed versions (``<pipeline>-<12 hex>``) count; the
first version the server names after the pipeline on its first upload is ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.kfp_api.managed import scheduled_version
from components.shared.errors import InputError
from kfops.deploy import is_version_name
from kfops.kfp_session import connect
from kfops.schedule_sync import Clock, reconcile_schedules
from kfops.schedules import load_schedules

KEEP_VERSIONS = 10


def rollback(
    host: str,
    token: str,
    pipeline: str,
    schedules_file: Path,
    *,
    to: str = "",
    namespace: str = "",
    keep: int = KEEP_VERSIONS,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Re-point ``pipeline``'s declared schedules to ``to`` (default: the version before the current).

    Returns:
        ``{"from": name, "to": name, "schedules": {...}, "pruned": [names], "warnings": [...]}``.

    Raises:
        InputError: Unknown pipeline or version, or no earlier version.
    """
    if keep < 0:
        raise InputError(f"--keep {keep}: give a number of versions to keep (0 keeps all)")
    experiment, schedules = load_schedules(schedules_file, {pipeline} | _declared_pipelines(schedules_file))
    api, _ = connect(host, token, namespace)
    found = api.find_pipeline(pipeline)
    if found is None:
        raise InputError(f"pipeline {pipeline!r} is not deployed")
    pipeline_id = found.pipeline_id
    versions = [v for v in api.versions(pipeline_id) if is_version_name(pipeline, v.name)]
    by_id = {v.pipeline_version_id: v for v in versions}
    current_id = scheduled_version(api.recurring_runs(), pipeline) or (
        versions[-1].pipeline_version_id if versions else None
    )
    if current_id is None or current_id not in by_id:
        raise InputError(f"pipeline {pipeline!r} has no kfops versions")
    if to:
        target = next((v for v in versions if v.name == to), None)
        if target is None:
            raise InputError(f"pipeline {pipeline!r} has no version {to!r}")
    else:
        index = [v.pipeline_version_id for v in versions].index(current_id)
        if index == 0:
            raise InputError(f"{by_id[current_id].name} is the oldest version of {pipeline!r}")
        target = versions[index - 1]
    report = reconcile_schedules(
        api,
        experiment,
        [s for s in schedules if s.pipeline == pipeline],
        {pipeline: (pipeline_id, target.pipeline_version_id)},
        only=pipeline,
        clock=clock,
    )
    pruned = []
    for version in versions[:-keep] if keep else []:
        if version.pipeline_version_id != target.pipeline_version_id:
            api.delete_version(pipeline_id, version.pipeline_version_id)
            pruned.append(version.name)
    return {
        "from": by_id[current_id].name,
        "to": target.name,
        "schedules": {k: v for k, v in report.changes.items() if v},
        "pruned": pruned,
        "warnings": report.warnings,
    }


def _declared_pipelines(path: Path) -> set[str]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return set()
    if not isinstance(data, dict):
        return set()
    return {str(s.get("pipeline")) for s in data.get("schedules") or [] if isinstance(s, dict)}
