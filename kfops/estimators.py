"""Up-front checks of the training parameters that choose the task and the estimator.

``estimator`` may be an import path, and importing code is running it: the name is
checked against ``[tool.kfops.estimators] modules`` (pyproject.toml) before a pipeline
starts, and the train task checks it again against the allow-list the compiled
pipeline carries (`components.train.component.ALLOWED_ESTIMATORS`) before importing.
"""

from __future__ import annotations

from typing import Any

from components.shared.errors import InputError
from components.shared.tasks import AUTO, TASKS


def check_training_args(args: dict[str, Any]) -> None:
    """Refuse a bad ``task`` or a disallowed or unknown ``estimator`` before anything runs.

    Raises:
        InputError: One ``error:`` line, exit 2.
    """
    from components.images import estimator_modules
    from components.train.core import check_estimator_name

    task = args.get("task")
    if task is not None and str(task).strip().lower() not in (AUTO, *TASKS):
        raise InputError(f"--param task: unknown task {task!r}; use auto, classification or regression")
    if "estimator" in args:
        check_estimator_name(str(args["estimator"]), estimator_modules())
