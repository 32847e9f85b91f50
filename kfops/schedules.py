"""Recurring runs declared in git (``schedules.yaml``) and the plan that reconciles them.

KFP cannot edit a recurring run, so a changed schedule is replaced: a new run that
starts at the hand-off, then the old one deleted (``kfops.schedule_sync`` carries
the plan out; ``kfops.handoff`` states what that guarantees). Runs this tool
manages are recognised by their display name ``kfops:<name>`` and a JSON
description carrying a fingerprint of what was declared (and of the pipeline
version it runs); runs made by hand are never touched.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from components.kfp_api.managed import managed  # noqa: F401  (re-exported)
from components.shared.errors import InputError, one_line
from components.shared.names import DEFAULT_EXPERIMENT, MANAGED_PREFIX

PREFIX = MANAGED_PREFIX  # one definition, shared with the retrain trigger
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z")
CRON_FIELDS = 6  # KFP's cron has seconds: "0 0 2 * * *"
MAX_CONCURRENCY = 10  # the KFP API server refuses max_concurrency outside 1..10


@dataclass(frozen=True)
class Schedule:
    """One declared recurring run.

    Attributes:
        name: Unique name (the run's display name is ``kfops:<name>``).
        pipeline: Pipeline name (a file ``<pipeline>.yaml`` among the compiled pipelines).
        cron: Six-field cron expression (seconds first).
        parameters: Pipeline parameters.
        enabled: Whether the run is active.
        max_concurrency: Runs allowed at once.
    """

    name: str
    pipeline: str
    cron: str
    parameters: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    max_concurrency: int = 1

    def fingerprint(self, version_id: str) -> str:
        """Hash of everything that, when changed, requires a new recurring run."""
        data = {**asdict(self), "enabled": None, "version_id": version_id}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ExistingRun:
    """A recurring run found on the server that this tool manages."""

    id: str
    name: str
    fingerprint: str
    enabled: bool


@dataclass
class Actions:
    """What to do, in order: create, replace, toggle, delete."""

    create: list[Schedule] = field(default_factory=list)
    replace: list[tuple[Schedule, list[ExistingRun]]] = field(default_factory=list)
    enable: list[ExistingRun] = field(default_factory=list)
    disable: list[ExistingRun] = field(default_factory=list)
    delete: list[ExistingRun] = field(default_factory=list)

    @property
    def changes(self) -> int:
        """Number of schedule changes (0 means the server already matches git)."""
        return len(self.create) + len(self.replace) + len(self.enable) + len(self.disable) + len(self.delete)


def cron_problem(cron: object) -> str | None:
    """Why ``cron`` is no KFP cron (robfig/cron v1: six fields, seconds first), else ``None``."""
    from croniter import CroniterBadDateError, croniter

    if not isinstance(cron, str) or len(cron.split()) != CRON_FIELDS:
        return "must have 6 fields (seconds first, e.g. '0 0 3 * * 1')"
    if not croniter.is_valid(cron, second_at_beginning=True):
        return "is not a valid cron expression (fields: second minute hour day-of-month month day-of-week)"
    try:
        croniter(cron, datetime(2026, 1, 1, tzinfo=UTC), second_at_beginning=True).get_next(datetime)
    except CroniterBadDateError:
        return "never fires (no such date)"
    return None


def load_schedules(
    path: Path, pipelines: set[str], *, check_parameters: bool = True
) -> tuple[str, list[Schedule]]:
    """Read and check the schedules file; return ``(experiment, schedules)``.

    Every field is checked: names, the pipeline, the cron (parsed), ``enabled`` (a
    boolean), ``max_concurrency`` (1-10, the server's range) and the parameters
    against the pipeline's signature, types and meaning (`kfops.params.check_values`).

    Raises:
        InputError: Unreadable file, unknown keys, duplicate names, a bad cron or an unknown pipeline.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise InputError(f"schedules file {path} is not valid YAML: {exc.problem}{where}") from None
    except OSError as exc:
        raise InputError(f"cannot read schedules file {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read schedules file {path}: {one_line(exc)}") from None
    if not isinstance(data, dict) or set(data) - {"experiment", "schedules"}:
        raise InputError(f"{path}: expected keys 'experiment' and 'schedules'")
    schedules = []
    items = data.get("schedules") or []
    if not isinstance(items, list):
        raise InputError(f"{path}: 'schedules' must be a list of mappings")
    for index, item in enumerate(items):
        where = f"{path}: schedule {index + 1}"
        if not isinstance(item, dict):
            raise InputError(f"{where} is not a mapping")
        unknown = set(item) - {"name", "pipeline", "cron", "parameters", "enabled", "max_concurrency"}
        if unknown:
            raise InputError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        name = item.get("name", "")
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise InputError(f"{where}: name {name!r} must be lowercase letters, digits and '-'")
        if item.get("pipeline") not in pipelines:
            raise InputError(
                f"{where} ({name}): unknown pipeline {item.get('pipeline')!r}; "
                f"pipelines: {', '.join(sorted(pipelines))}"
            )
        cron = item.get("cron", "")
        problem = cron_problem(cron)
        if problem:
            raise InputError(f"{where} ({name}): cron {cron!r} {problem}")
        parameters = item.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise InputError(f"{where} ({name}): parameters must be a mapping")
        enabled = item.get("enabled", True)
        if not isinstance(enabled, bool):
            raise InputError(f"{where} ({name}): enabled must be true or false (a boolean), got {enabled!r}")
        concurrency = item.get("max_concurrency", 1)
        if (
            isinstance(concurrency, bool)
            or not isinstance(concurrency, int)
            or not 1 <= concurrency <= MAX_CONCURRENCY
        ):
            raise InputError(
                f"{where} ({name}): max_concurrency must be an integer from 1 to {MAX_CONCURRENCY} "
                f"(the KFP server's limit), got {concurrency!r}"
            )
        secret = next((key for key in parameters if "webhook" in str(key).lower()), None)
        if secret is not None:
            raise InputError(
                f"{where} ({name}): parameter {secret!r} is a secret and must not be in git: "
                f"store it in the Kubernetes Secret kfops-webhook (docs/runbook.md)"
            )
        if check_parameters:
            from kfops.params import check_values

            check_values(item["pipeline"], parameters, where=f"{where} ({name})")
        schedules.append(Schedule(name, item["pipeline"], cron, parameters, enabled, concurrency))
    names = [s.name for s in schedules]
    if len(set(names)) != len(names):
        raise InputError(
            f"{path}: schedule name {next(n for n in names if names.count(n) > 1)!r} appears twice"
        )
    experiment = data.get("experiment") or DEFAULT_EXPERIMENT
    if not isinstance(experiment, str) or not experiment.strip():
        raise InputError(f"{path}: experiment must be a non-empty string, got {experiment!r}")
    return experiment, schedules


def plan(desired: list[tuple[Schedule, str]], existing: list[ExistingRun]) -> Actions:
    """Reconcile declared schedules (with their fingerprints) against the managed runs."""
    actions = Actions()
    by_name: dict[str, list[ExistingRun]] = {}
    for run in existing:
        by_name.setdefault(run.name, []).append(run)
    for schedule, fingerprint in desired:
        runs = by_name.pop(schedule.name, [])
        keep = next((r for r in runs if r.fingerprint == fingerprint), None)
        if keep is None:
            if runs:
                actions.replace.append((schedule, runs))
            else:
                actions.create.append(schedule)
            continue
        actions.delete += [r for r in runs if r is not keep]  # leftovers of an interrupted deploy
        if schedule.enabled and not keep.enabled:
            actions.enable.append(keep)
        elif not schedule.enabled and keep.enabled:
            actions.disable.append(keep)
    for runs in by_name.values():  # declared no more
        actions.delete += runs
    return actions
