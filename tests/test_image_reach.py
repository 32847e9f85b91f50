"""Each image holds what its task reaches: components' modules and data, third-party packages.

Static, from each component's entry point (kfops/images/reach.py); the isolated runs
(tests/test_isolated.py) prove the same by running the tasks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from components.images import (
    COMPONENTS_DIR,
    EXTRA_INPUTS,
    MODEL_IMAGES,
    component_names,
    estimator_modules,
    image_inputs,
)
from kfops.images.check import check_image, estimator_problems
from kfops.images.lock import locked_distributions
from kfops.images.reach import follow


def _held(component: str) -> set[str]:
    return {p.relative_to(COMPONENTS_DIR).as_posix() for p in image_inputs(component)}


@pytest.mark.parametrize("name", component_names())
def test_every_image_holds_what_its_task_reaches_and_copies_nothing_unreached(name: str) -> None:
    assert check_image(name) == []


def test_model_storage_without_pyarrow_is_caught() -> None:
    """The bug of issue 12: read_parquet_metadata imports pyarrow.parquet inside a function."""
    for name in ("model_storage", "metrics_store"):
        problems = follow(name, distributions=locked_distributions(name) - {"pyarrow"}).problems
        assert problems == [
            "components/shared/tables.py:52: imports pyarrow (from pyarrow), which the image does not install"
        ], problems


def test_monitoring_and_batch_predict_without_the_bundled_data_are_caught() -> None:
    """builtin:// sources read resources.files("components.ingest") / "data"."""
    for name in ("monitoring", "batch_predict"):
        problems = follow(name, files={f for f in _held(name) if not f.startswith("ingest/")}).problems
        assert any("reads components.ingest/data" in p for p in problems), problems
        assert any("imports components.ingest (components/ingest/__init__.py)" in p for p in problems), (
            problems
        )


def test_a_missing_component_module_is_caught() -> None:
    problems = follow(
        "retrain_trigger", files={f for f in _held("retrain_trigger") if "kfp_api" not in f}
    ).problems
    assert any("imports components.kfp_api.managed" in p for p in problems), problems


def test_reachability_not_every_shared_file_counts() -> None:
    """shared/artifacts.py imports joblib inside its loaders; model_storage only takes its constants."""
    reach = follow("model_storage")
    assert "shared/artifacts.py" in reach.modules.values()
    assert "joblib" not in {u.name.split(".")[0] for u in reach.uses}
    assert "shared/sources.py" not in reach.modules.values()  # never reached from model_storage


def _tree(root: Path, files: dict[str, str]) -> Path:
    components = root / "components"
    for name, text in {"__init__.py": "", **files}.items():
        (components / name).parent.mkdir(parents=True, exist_ok=True)
        (components / name).write_text(text)
    return components


def test_imports_inside_functions_import_module_and_resources_are_followed(tmp_path: Path) -> None:
    components = _tree(
        tmp_path,
        {
            "demo/__init__.py": "",
            "demo/component.py": (
                "from kfp import dsl\n\n"
                "@dsl.component(base_image='x')\n"
                "def demo() -> str:\n"
                "    from components.demo.io import run\n"
                "    return run()\n"
            ),
            "demo/io.py": (
                "from typing import TYPE_CHECKING\n"
                "from components.shared.util import helper\n"
                "if TYPE_CHECKING:\n    import pandas\n"
                "try:\n    import tomli\nexcept ImportError:\n    tomli = None\n"
                "def run():\n    import sklearn\n    return helper()\n"
                "def never_called():\n    import pulumi\n"
            ),
            "shared/__init__.py": "",
            "shared/util.py": (
                "import importlib\nfrom importlib import resources\n"
                "def helper():\n"
                "    importlib.import_module('yaml')\n"
                "    return (resources.files('components.other') / 'data').read_text()\n"
            ),
            "other/__init__.py": "",
            "other/data/x.csv": "a\n",
        },
    )
    owners = {"sklearn": ["scikit-learn"], "yaml": ["PyYAML"], "pulumi": ["pulumi"], "kfp": ["kfp"]}
    held = {
        "__init__.py",
        "demo/__init__.py",
        "demo/component.py",
        "demo/io.py",
        "shared/__init__.py",
        "shared/util.py",
    }
    reach = follow("demo", root=components, files=held, distributions={"kfp"}, module_distributions=owners)
    assert sorted(reach.problems) == sorted(
        [
            "components/demo/io.py:10: imports sklearn (from scikit-learn), which the image does not install",
            "components/shared/util.py:4: imports yaml (from pyyaml), which the image does not install",
            "components/shared/util.py:5: imports components.other (components/other/__init__.py), "
            "which the image does not copy",
            "components/shared/util.py:5: reads components.other/data (components/other/data), "
            "which the image does not copy",
        ]
    )  # not pulumi (never reached), not pandas (TYPE_CHECKING), not tomli (optional)
    everything = follow(
        "demo",
        root=components,
        files={*held, "other/__init__.py", "other/data/x.csv"},
        distributions={"kfp", "scikit-learn", "pyyaml"},
        module_distributions=owners,
    )
    assert everything.problems == []


def test_an_unreached_declared_path_is_reported() -> None:
    """A declared extra path that the task never reaches only widens the image and its hash."""
    reach = follow("champion")
    assert reach.unused(EXTRA_INPUTS["champion"]) == []
    assert reach.unused(("evaluate/io.py", "monitoring")) == ["evaluate/io.py", "monitoring"]


def test_images_that_load_the_model_hold_every_allowed_estimator_package() -> None:
    """An estimator named by import path is reached by joblib.load, not by any import: the
    allow-list of pyproject.toml is checked against every image that builds or unpickles a model."""
    assert set(MODEL_IMAGES) == {"train", "evaluate", "champion", "batch_predict", "monitoring"}
    assert estimator_modules() == ("sklearn",)
    for name in MODEL_IMAGES:
        assert estimator_problems(name) == []
        widened = estimator_problems(
            name,
            modules=("sklearn", "xgboost"),
            module_distributions={"sklearn": ["scikit-learn"], "xgboost": ["xgboost"]},
        )
        assert widened == [
            f"pyproject.toml [tool.kfops.estimators]: {name} loads models whose estimator may come "
            "from xgboost, but its image does not install xgboost"
        ]
    assert estimator_problems("ingest", modules=("xgboost",)) == []  # never loads a model
