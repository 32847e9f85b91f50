"""Finding pipelines by name (the names `kfops compile` and `kfops run` use)."""

from __future__ import annotations

import importlib
from typing import Any

from components.shared.errors import InputError
from pipelines import PIPELINES


def pipeline_names() -> list[str]:
    """All pipeline names, sorted."""
    return sorted(PIPELINES)


def load_pipeline(name: str) -> Any:
    """Import and return the ``@dsl.pipeline`` function called ``name``."""
    target = PIPELINES.get(name)
    if target is None:
        raise InputError(f"unknown pipeline {name!r}; pipelines: {', '.join(pipeline_names())}")
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)
