"""``kfops rollback``: point a pipeline's schedules at an earlier version; prune old versions.

Git stays the source of truth: the next deploy of a commit moves the schedules to
that commit's version again, so a rollback is the lever to pull while a revert is
reviewed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.shared.errors import InputError
from kfops.deploy import (
    check_server,
    find_pipeline_id,
    list_all,
    make_client,
    reconcile_schedules,
    with_retries,
)
from kfops.schedules import load_schedules, managed

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
) -> dict[str, Any]:
    """Re-point ``pipeline``'s declared schedules to ``to`` (default: the version before the current).

    Returns:
        ``{"from": name, "to": name, "schedules": {...}, "pruned": [names]}``.

    Raises:
        InputError: Unknown pipeline or version, or no earlier version.
    """
    experiment, schedules = load_schedules(schedules_file, {pipeline} | _declared_pipelines(schedules_file))
    check_server(host, namespace)
    client = make_client(host, token, namespace)
    api = client._pipelines_api
    pipeline_id = find_pipeline_id(api, pipeline, namespace)
    if pipeline_id is None:
        raise InputError(f"pipeline {pipeline!r} is not deployed")
    versions = list_all(
        f"list versions of {pipeline}",
        api.pipeline_service_list_pipeline_versions,
        "pipeline_versions",
        pipeline_id,
        sort_by="created_at",
        profile=namespace,
    )
    by_id = {v.pipeline_version_id: v for v in versions}
    current_id = _scheduled_version(client, pipeline, namespace) or (
        versions[-1].pipeline_version_id if versions else None
    )
    if current_id is None:
        raise InputError(f"pipeline {pipeline!r} has no versions")
    if to:
        target = next((v for v in versions if v.display_name == to), None)
        if target is None:
            raise InputError(f"pipeline {pipeline!r} has no version {to!r}")
    else:
        index = [v.pipeline_version_id for v in versions].index(current_id)
        if index == 0:
            raise InputError(f"{by_id[current_id].display_name} is the oldest version of {pipeline!r}")
        target = versions[index - 1]
    mine = [s for s in schedules if s.pipeline == pipeline]
    changes = reconcile_schedules(
        client,
        experiment,
        mine,
        {pipeline: (pipeline_id, target.pipeline_version_id)},
        namespace,
        only=pipeline,
    )
    used = {target.pipeline_version_id}
    pruned = []
    for version in versions[:-keep] if keep > 0 else []:
        if version.pipeline_version_id not in used:
            with_retries(
                f"delete version {version.display_name}",
                api.pipeline_service_delete_pipeline_version,
                pipeline_id,
                version.pipeline_version_id,
                profile=namespace,
            )
            pruned.append(version.display_name)
    return {
        "from": by_id[current_id].display_name,
        "to": target.display_name,
        "schedules": changes,
        "pruned": pruned,
    }


def _declared_pipelines(path: Path) -> set[str]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return set()
    return {str(s.get("pipeline")) for s in data.get("schedules") or [] if isinstance(s, dict)}


def _scheduled_version(client: Any, pipeline: str, namespace: str) -> str | None:
    """The version the pipeline's managed recurring runs use now, if any."""
    import json

    api = client._recurring_run_api
    listed = list_all(
        "list recurring runs",
        api.recurring_run_service_list_recurring_runs,
        "recurring_runs",
        namespace=namespace or None,
        profile=namespace,
    )
    for run in listed:
        ours = managed(run.display_name or "", run.description) is not None
        if (
            ours
            and json.loads(run.description).get("pipeline") == pipeline
            and run.pipeline_version_reference
        ):
            return str(run.pipeline_version_reference.pipeline_version_id)
    return None
