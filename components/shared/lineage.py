"""Facts carried from step to step (the lineage in artifact metadata)."""

from __future__ import annotations

from typing import Any


def training_parameters(model: dict[str, Any]) -> dict[str, Any]:
    """The run parameters recorded in a model's lineage (model metadata and run records)."""
    split = model.get("split", {})
    return {
        "source": model.get("source"),
        "estimator": model.get("estimator"),
        "hyperparameters": model.get("hyperparameters", {}),
        "seed": model.get("seed"),
        "preprocessing": model.get("preprocessing", []),
        "test_size": split.get("test_size"),
        "stratify": split.get("stratified"),
    }
