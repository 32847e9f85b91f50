"""Gate settings: ``[tool.kfops.gate]`` in ``pyproject.toml`` or a TOML file given with ``--config``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.shared.errors import InputError
from components.shared.gate_stats.metrics import METRICS, alpha_problem, tolerance_problem


@dataclass(frozen=True)
class MetricRule:
    """How one metric is gated.

    Attributes:
        name: Metric name.
        gate: Whether a regression fails the gate (otherwise it is only reported).
        tolerance: Worsening allowed before it counts (absolute).
        alpha: Level of the one-sided test.
        direction: ``higher`` or ``lower`` is better (must match the metric).
    """

    name: str
    gate: bool
    tolerance: float
    alpha: float
    direction: str


DEFAULT_GATED = ("accuracy", "rmse")  # each task's gated metric (a rule applies to its task's models)


@dataclass(frozen=True)
class GateConfig:
    """All gate settings.

    Attributes:
        metrics: Rules per metric, in report order.
        on_missing_baseline: ``pass`` (with a warning) or ``fail`` when no baseline exists.
        pipeline: Pipeline whose baselines are used.
        baseline_branch: Branch whose baseline the gate compares to by default.
    """

    metrics: tuple[MetricRule, ...]
    on_missing_baseline: str = "pass"
    pipeline: str = "training"
    baseline_branch: str = "main"
    source: str = "defaults"
    warnings: tuple[str, ...] = field(default=())

    @property
    def gated(self) -> tuple[MetricRule, ...]:
        """Rules whose regression fails the gate."""
        return tuple(r for r in self.metrics if r.gate)


def _number(table: dict[str, Any], key: str, default: float, where: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}.{key} must be a number, got {value!r}")
    return float(value)


def parse_config(data: dict[str, Any], source: str) -> GateConfig:
    """Build a `GateConfig` from the ``gate`` table.

    Raises:
        InputError: Unknown keys or metrics, or values of the wrong type or range.
    """
    where = "gate"
    known = {"alpha", "on_missing_baseline", "pipeline", "baseline_branch", "metrics"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"{source}: unknown gate setting {unknown[0]!r}; known: {', '.join(sorted(known))}")
    alpha = _number(data, "alpha", 0.05, where)
    if alpha_problem(alpha):
        raise InputError(f"{source}: gate.alpha {alpha_problem(alpha)}")
    missing = data.get("on_missing_baseline", "pass")
    if missing not in ("pass", "fail"):
        raise InputError(f"{source}: gate.on_missing_baseline must be 'pass' or 'fail', got {missing!r}")
    tables = data.get("metrics", {})
    if not isinstance(tables, dict):
        raise InputError(f"{source}: gate.metrics must be a table")
    bad = sorted(set(tables) - set(METRICS))
    if bad:
        raise InputError(f"{source}: unknown metric {bad[0]!r}; metrics: {', '.join(METRICS)}")
    rules = []
    for name, spec in METRICS.items():
        table = tables.get(name, {})
        here = f"{where}.metrics.{name}"
        if not isinstance(table, dict):
            raise InputError(f"{source}: {here} must be a table (e.g. [{here}] with tolerance = ...)")
        extra = sorted(set(table) - {"gate", "tolerance", "alpha", "direction"})
        if extra:
            raise InputError(f"{source}: unknown setting {here}.{extra[0]}")
        natural = "higher" if spec.higher_is_better else "lower"
        direction = table.get("direction", natural)
        if direction != natural:
            raise InputError(f"{source}: {here}.direction: {name} is {natural}-is-better, not {direction!r}")
        gate = table.get("gate", name in DEFAULT_GATED)
        if not isinstance(gate, bool):
            raise InputError(f"{source}: {here}.gate must be true or false")
        tolerance = _number(table, "tolerance", 0.0, here)
        rule_alpha = _number(table, "alpha", alpha, here)
        problem = tolerance_problem(name, tolerance)
        if problem:
            raise InputError(f"{source}: {here}.tolerance {problem}")
        problem = alpha_problem(rule_alpha)
        if problem:
            raise InputError(f"{source}: {here}.alpha {problem}")
        rules.append(MetricRule(name, gate, tolerance, rule_alpha, direction))
    for key in ("pipeline", "baseline_branch"):
        if not isinstance(data.get(key, ""), str) or (key in data and not data[key].strip()):
            raise InputError(f"{source}: gate.{key} must be a non-empty string, got {data[key]!r}")
    return GateConfig(
        metrics=tuple(rules),
        on_missing_baseline=missing,
        pipeline=str(data.get("pipeline", "training")),
        baseline_branch=str(data.get("baseline_branch", "main")),
        source=source,
    )


def load_config(path: Path | None = None, project_root: Path | None = None) -> GateConfig:
    """Read the gate settings from ``path`` or from ``pyproject.toml`` (defaults if absent).

    A file given with ``--config`` may hold the settings at top level, under
    ``[gate]`` or under ``[tool.kfops.gate]``.
    """
    if path is None:
        pyproject = (project_root or Path.cwd()) / "pyproject.toml"
        if not pyproject.is_file():
            return parse_config({}, "defaults")
        path, required = pyproject, False
    else:
        required = True
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"gate config {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"gate config {path} is a directory, not a TOML file") from None
    except OSError as exc:
        raise InputError(f"cannot read gate config {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"gate config {path} is not valid TOML: {exc}") from None
    tool = data.get("tool", {})
    kfops = tool.get("kfops", {}) if isinstance(tool, dict) else {}
    table = kfops.get("gate") if isinstance(kfops, dict) else None
    if table is None:
        table = data.get("gate", data if required and "tool" not in data else {})
    if not isinstance(table, dict):
        raise InputError(f"{path}: gate settings must be a table, got {type(table).__name__}")
    return parse_config(table, str(path))
