"""``kfops compile``: compile every pipeline to KFP IR YAML, deterministically."""

from __future__ import annotations

from pathlib import Path

from components.shared.errors import InputError
from kfops.files import output_dir as make_output_dir
from kfops.files import replacing
from kfops.registry import load_pipeline, pipeline_names


def compile_pipelines(output_dir: Path, names: list[str] | None = None) -> list[Path]:
    """Compile pipelines to ``<output_dir>/<name>.yaml``.

    The same sources, kfp version and image registry give byte-identical files.
    Each file is written to a temporary name and renamed into place.

    Returns:
        The written paths.
    """
    from kfp import compiler

    written = []
    make_output_dir(output_dir, "output directory")
    try:
        for name in names or pipeline_names():
            target = output_dir / f"{name}.yaml"
            with replacing(target) as tmp:  # unique per process; keeps the .yaml suffix kfp wants
                compiler.Compiler().compile(load_pipeline(name), str(tmp))
            written.append(target)
    except OSError as exc:
        raise InputError(f"cannot write to {output_dir}: {exc.strerror or exc}") from None
    return written
