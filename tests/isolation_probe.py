"""A task for tests/test_isolated.py: what can it import? (no `from __future__ import
annotations` here: kfp reads the return annotation as a type)."""

from kfp import dsl

from components.images import image

#: Modules the probe tries: only pyarrow and the image's own code are in the model_storage image.
PROBED = ("sklearn", "pulumi", "kfops", "components.train.core", "components.model_storage.io", "pyarrow")


@dsl.component(base_image=image("model_storage"), install_kfp_package=False)
def probe() -> str:
    """Runs in the model_storage image: reports its interpreter, path and which modules import."""
    import importlib
    import json
    import sys

    found = {}
    for name in (
        "sklearn",
        "pulumi",
        "kfops",
        "components.train.core",
        "components.model_storage.io",
        "pyarrow",
    ):
        try:
            importlib.import_module(name)
            found[name] = True
        except ImportError:
            found[name] = False
    return json.dumps({"prefix": sys.prefix, "path": sys.path, "found": found})
