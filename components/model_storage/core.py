"""Pure core of `model_storage`: names, versions, keys and metadata of stored models."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from components.shared.lineage import training_parameters


def new_version(created_at: datetime, run_id: str) -> str:
    """A sortable, unique version id: ``YYYYMMDD-HHMMSS-<run id, 8 chars>``."""
    slug = re.sub(r"[^a-z0-9]", "", run_id.lower())[-8:] or "local"
    return f"{created_at:%Y%m%d-%H%M%S}-{slug}"


def build_metadata(
    *,
    model_name: str,
    version: str,
    created_at: datetime,
    run_id: str,
    run_name: str,
    git_commit: str,
    git_ref: str,
    evaluation: dict[str, Any],
) -> dict[str, Any]:
    """The metadata stored beside a model version.

    Args:
        model_name: Model name.
        version: Version id.
        created_at: When the version was stored (UTC).
        run_id: Pipeline run id.
        run_name: Pipeline run name.
        git_commit: Commit the pipeline was built from.
        git_ref: Branch or tag.
        evaluation: The evaluation record's facts (metrics, fingerprints, model lineage).

    Returns:
        A JSON-ready dict: metrics, data and test fingerprints, run, commit, parameters.
    """
    model = evaluation.get("model", {})
    return {
        "model_name": model_name,
        "version": version,
        "created_at": created_at.isoformat(),
        "run_id": run_id,
        "run_name": run_name,
        "git_commit": git_commit,
        "git_ref": git_ref,
        "metrics": evaluation.get("metrics", {}),
        "data_fingerprint": model.get("data_fingerprint"),
        "test_fingerprint": evaluation.get("test_fingerprint"),
        "parameters": training_parameters(model),
        "label": model.get("label"),
        "features": model.get("features", []),
        "categorical": model.get("categorical", []),
        "profile": model.get("profile", {}),
        "task": model.get("task", "classification"),
        "estimator_class": model.get("estimator_class"),
        "classes": model.get("classes", []),
        "sklearn_version": model.get("sklearn_version"),
        "python_version": model.get("python_version"),
    }
