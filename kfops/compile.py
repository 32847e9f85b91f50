"""``kfops compile``: compile every pipeline to KFP IR YAML, deterministically."""

from __future__ import annotations

from pathlib import Path

from kfops.registry import load_pipeline, pipeline_names


def compile_pipelines(output_dir: Path, names: list[str] | None = None) -> list[Path]:
    """Compile pipelines to ``<output_dir>/<name>.yaml``.

    The same sources, kfp version and image registry give byte-identical files.
    Each file is written to a temporary name and renamed into place.

    Returns:
        The written paths.
    """
    from kfp import compiler

    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names or pipeline_names():
        target = output_dir / f"{name}.yaml"
        tmp = target.with_name(f".{target.name}.tmp")
        compiler.Compiler().compile(load_pipeline(name), str(tmp))
        tmp.replace(target)
        written.append(target)
    return written
