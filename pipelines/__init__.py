"""Pipelines: each module wires components and nothing else.

`PIPELINES` maps a pipeline's name (as used by `kfops compile` and `kfops run`)
to its ``@dsl.pipeline`` function's module and attribute, imported on demand.
"""

PIPELINES: dict[str, str] = {
    "training": "pipelines.training:training",
    "inference": "pipelines.inference:inference",
    "monitoring": "pipelines.monitoring:monitoring",
}
