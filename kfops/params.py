"""Parsing ``--param KEY=VALUE`` against a pipeline's declared parameters."""

from __future__ import annotations

from typing import Any

from components.shared.errors import InputError

_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


def pipeline_parameters(pipeline: Any) -> dict[str, tuple[str, Any]]:
    """Map each parameter of a ``@dsl.pipeline`` to ``(type name, default or None)``."""
    inputs = pipeline.component_spec.inputs or {}
    return {name: (spec.type, spec.default) for name, spec in inputs.items()}


def _coerce(key: str, kind: str, raw: str) -> Any:
    try:
        if kind == "Integer":
            return int(raw)
        if kind == "Float":
            return float(raw)
    except ValueError:
        raise InputError(f"--param {key}: expected {kind.lower()}, got {raw!r}") from None
    if kind == "Boolean":
        lowered = raw.strip().lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise InputError(f"--param {key}: expected true or false, got {raw!r}")
    return raw


def parse_params(pairs: list[str], declared: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    """Turn ``["seed=7", ...]`` into typed arguments for the pipeline.

    Raises:
        InputError: A pair without ``=``, an unknown key, a repeated key or a value
            of the wrong type.
    """
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"malformed --param {pair!r}: expected KEY=VALUE")
        if key not in declared:
            raise InputError(f"unknown parameter {key!r}; parameters: {', '.join(sorted(declared))}")
        if key in result:
            raise InputError(f"parameter {key!r} given more than once")
        result[key] = _coerce(key, declared[key][0], raw)
    return result
