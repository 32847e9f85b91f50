"""Pipeline parameters: parsing ``--param KEY=VALUE`` and checking every value before work starts.

The same checks run for ``kfops run``, for the parameters of ``schedules.yaml`` and for
monitoring's ``training_parameters``, so a value that a task would refuse minutes later
(or, worse, accept) is refused up front with one line naming the parameter.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from components.shared.errors import InputError

_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}
#: Seeds go to numpy and scikit-learn, which take 0 <= seed < 2**32.
MAX_SEED = 2**32 - 1
#: KFP keeps integers as JSON numbers: beyond 2**53 they lose precision.
MAX_INTEGER = 2**53
_SOURCE_SCHEMES = ("", "file", "s3", "https", "builtin")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


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


def _typed(key: str, kind: str, value: Any) -> Any:
    """``value`` as the declared type, refusing look-alikes (``"false"`` is no boolean)."""
    if kind == "Boolean":
        if not isinstance(value, bool):
            raise InputError(f"{key}: expected true or false (a boolean), got {value!r}")
        return value
    if kind == "Integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"{key}: expected an integer, got {value!r}")
        if abs(value) > MAX_INTEGER:
            raise InputError(f"{key}: {value} is out of range")
        return value
    if kind == "Float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{key}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise InputError(f"{key}: expected a finite number, got {value}")
        return float(value)
    if kind == "String":
        if not isinstance(value, str):
            raise InputError(f"{key}: expected a string, got {value!r}")
        return value
    return value


def _fraction_open(key: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise InputError(f"{key} must be between 0 and 1 (exclusive), got {value}")


def _seed(key: str, value: int) -> None:
    if not 0 <= value <= MAX_SEED:
        raise InputError(f"{key} must be in 0..{MAX_SEED}, got {value}")


def _model_name(key: str, value: str) -> None:
    from components.shared.models import check_model_name

    check_model_name(value)


def _model_reference(key: str, value: str) -> None:
    from components.shared.models import check_model_name, check_version

    name, colon, version = value.partition(":")
    check_model_name(name)
    if colon:
        check_version(version)


def _estimator(key: str, value: str) -> None:
    """A named estimator, ``auto``, or an import path inside the allow-list (one check: train's)."""
    from components.images import estimator_modules
    from components.train.core import check_estimator_name

    check_estimator_name(value, estimator_modules())


def _hyperparameters(key: str, value: str) -> None:
    from components.train.core import parse_hyperparameters

    parse_hyperparameters(value)


def _preprocessing(key: str, value: str) -> None:
    from components.preprocess.core import parse_steps

    parse_steps(value)


def _champion_rules(key: str, value: str) -> None:
    from components.champion.core import parse_rules

    parse_rules(value)


def _source(key: str, value: str) -> None:
    text = value.strip()
    if not text:
        raise InputError(f"{key}: no data source given")
    if any(ch in text for ch in "\n\r\t\0"):
        raise InputError(f"{key}: {value!r} contains control characters")
    scheme = urlparse(text).scheme
    if scheme == "http":
        raise InputError(f"refusing plain-http source {value!r}; use https://")
    if scheme not in _SOURCE_SCHEMES:
        raise InputError(
            f"{key}: unsupported data source scheme {scheme!r} in {value!r}; "
            "use a path, file://, s3://, https:// or builtin://"
        )


def _column(key: str, value: str) -> None:
    if not value.strip():
        raise InputError(f"{key} must name a column")


def _host(key: str, value: str) -> None:
    if not value:
        return
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or any(c.isspace() for c in value):
        raise InputError(
            f"{key}: {value!r} is not an http(s) URL (e.g. https://kubeflow.example.com/pipeline)"
        )


def _namespace(key: str, value: str) -> None:
    if value and not _DNS_LABEL.fullmatch(value):
        raise InputError(f"{key}: {value!r} is not a Kubernetes namespace name")


def _as_of(key: str, value: str) -> None:
    from components.monitoring.core import parse_time

    parse_time(value)


def _training_pipeline(key: str, value: str) -> None:
    from pipelines import PIPELINES

    if value not in PIPELINES:
        raise InputError(f"{key}: unknown pipeline {value!r}; pipelines: {', '.join(sorted(PIPELINES))}")


def _training_parameters(key: str, value: str) -> None:
    try:
        parsed = json.loads(value) if value.strip() else {}
    except json.JSONDecodeError as exc:
        raise InputError(f"{key} is not JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(parsed, dict):
        raise InputError(f"{key} must be a JSON object")
    check_values("training", parsed, where=key)


#: Checks by parameter name (one meaning per name across pipelines).
CHECKS: dict[str, Callable[[str, Any], None]] = {
    "test_size": _fraction_open,
    "seed": _seed,
    "model_name": _model_name,
    "model": _model_reference,
    "estimator": _estimator,
    "hyperparameters": _hyperparameters,
    "preprocessing": _preprocessing,
    "champion_rules": _champion_rules,
    "source": _source,
    "label_column": _column,
    "kfp_host": _host,
    "namespace": _namespace,
    "as_of": _as_of,
    "training_pipeline": _training_pipeline,
    "training_parameters": _training_parameters,
}

_MONITOR_RULE = ("metric", "threshold", "tolerance", "windows_below", "window_count", "cooldown_hours")


def check_values(pipeline: str, values: dict[str, Any], *, where: str = "") -> dict[str, Any]:
    """Check parameter values of ``pipeline`` against its signature, types and meaning.

    Args:
        pipeline: Pipeline name.
        values: Parameter values (typed: from ``--param`` parsing, YAML or JSON).
        where: Prefix for messages (e.g. the schedule).

    Returns:
        The values, typed as the pipeline declares them.

    Raises:
        InputError: An unknown parameter, a value of the wrong type, or one out of range.
    """
    from kfops.registry import load_pipeline

    declared = pipeline_parameters(load_pipeline(pipeline))
    prefix = f"{where}: " if where else ""
    typed: dict[str, Any] = {}
    for key, value in values.items():
        if key not in declared:
            raise InputError(
                f"{prefix}unknown parameter {key!r} of pipeline {pipeline!r}; "
                f"parameters: {', '.join(sorted(declared))}"
            )
        try:
            typed[key] = _typed(key, declared[key][0], value)
            if key in CHECKS:
                CHECKS[key](key, typed[key])
        except InputError as exc:
            raise InputError(f"{prefix}{exc}") from None
    if pipeline == "monitoring" and any(k in typed for k in _MONITOR_RULE):
        from components.monitoring.core import MonitorSettings

        rule = {k: typed.get(k, declared[k][1]) for k in _MONITOR_RULE}
        try:
            MonitorSettings(**rule)
        except InputError as exc:
            raise InputError(f"{prefix}{exc}") from None
    return typed
