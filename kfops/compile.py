"""``kfops compile``: compile every pipeline to KFP IR YAML, deterministically."""

from __future__ import annotations

from pathlib import Path

from components.shared.errors import InputError
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
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        for name in names or pipeline_names():
            target = output_dir / f"{name}.yaml"
            tmp = target.with_name(f".tmp-{target.name}")  # kfp wants a .yaml suffix
            compiler.Compiler().compile(load_pipeline(name), str(tmp))
            tmp.replace(target)
            written.append(target)
    except OSError as exc:
        raise InputError(f"cannot write to {output_dir}: {exc.strerror or exc}") from None
    return written
