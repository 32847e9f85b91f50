"""``kfops images check``: what each image lacks for its task, found statically.

Besides what ``kfops.images.reach`` finds, declared extra paths (``EXTRA_INPUTS``) that a
task never reaches, and for the images that load the model, the package of an estimator
module that ``[tool.kfops.estimators]`` allows.
"""

from __future__ import annotations

import importlib.metadata

from components.images import EXTRA_INPUTS, MODEL_IMAGES, component_names, estimator_modules
from kfops.images.lock import locked_distributions, normalize
from kfops.images.reach import follow


def estimator_problems(
    name: str,
    *,
    modules: tuple[str, ...] | None = None,
    distributions: set[str] | None = None,
    module_distributions: dict[str, list[str]] | None = None,
) -> list[str]:
    """An image that builds or unpickles the model (``MODEL_IMAGES``) must install the package
    of every module ``[tool.kfops.estimators]`` allows: an estimator named by import path is
    not reached by any import the code makes, only by ``joblib.load``."""
    if name not in MODEL_IMAGES:
        return []
    installed = distributions if distributions is not None else locked_distributions(name)
    mapping = (
        module_distributions
        if module_distributions is not None
        else importlib.metadata.packages_distributions()
    )
    problems = []
    for module in modules if modules is not None else estimator_modules():
        top = module.split(".", 1)[0]
        provided = sorted(normalize(d) for d in mapping.get(top, []))
        if not set(provided) & installed:
            problems.append(
                f"pyproject.toml [tool.kfops.estimators]: {name} loads models whose estimator may come "
                f"from {module}, but its image does not install {' or '.join(provided) or top}"
            )
    return problems


def check_image(name: str) -> list[str]:
    """A component's problems (none when its image holds what its task reaches), including
    declared extra paths (``EXTRA_INPUTS``) that its task never reaches and, for the images
    that load the model, a missing package of an allowed estimator module."""
    reach = follow(name)
    return (
        reach.problems
        + [
            f"components/images.py: {name} copies {entry}, which its task never reaches"
            for entry in reach.unused(EXTRA_INPUTS[name])
        ]
        + estimator_problems(name)
    )


def check_images() -> dict[str, list[str]]:
    """Every component's problems (see ``check_image``)."""
    return {name: check_image(name) for name in component_names()}
