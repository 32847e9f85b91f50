"""Make the recurring runs on a KFP server match ``schedules.yaml`` (used by deploy and rollback).

The plan (what to create, replace, enable, disable, delete) comes from
:func:`kfops.schedules.plan`; this module reads the server and carries it out. A
replacement, and enabling a run (which, with ``no_catchup``, would fire a missed
tick at once), hand over at a quiet moment: the new run is created, then the old
deleted (see :mod:`kfops.handoff` for the guarantee). A dry run only reads.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from components.kfp_api import KfpApi
from components.kfp_api.managed import managed_pipeline
from components.shared.names import PROJECT
from kfops import handoff
from kfops.schedules import PREFIX, ExistingRun, Schedule, managed, plan

CHANGES = ("created", "replaced", "enabled", "disabled", "deleted", "unchanged")


@dataclass
class Clock:
    """Wall clock and sleep, replaceable in tests (the fake server can share a virtual clock)."""

    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep

    def utc(self) -> datetime:
        """Now, as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now(), UTC)


@dataclass
class ScheduleReport:
    """What a reconciliation changed (or, on a dry run, would change), by schedule name."""

    changes: dict[str, list[str]] = field(default_factory=lambda: {c: [] for c in CHANGES})
    warnings: list[str] = field(default_factory=list)


def _existing(api: KfpApi, experiment_id: str, only: str | None) -> tuple[list[ExistingRun], dict[str, str]]:
    runs, crons = [], {}
    for run in api.recurring_runs(experiment_id) if experiment_id else []:
        facts = managed(run.display_name or "", run.description)
        if not facts:
            continue
        if only and managed_pipeline(run) != only:
            continue
        runs.append(ExistingRun(run.recurring_run_id, facts[0], facts[1], str(run.mode) == "ENABLE"))
        cron = getattr(getattr(run.trigger, "cron_schedule", None), "cron", None)
        if cron:
            crons[run.recurring_run_id] = cron
    return runs, crons


def reconcile_schedules(
    api: KfpApi,
    experiment: str,
    schedules: list[Schedule],
    versions: dict[str, tuple[str, str]],
    *,
    dry_run: bool = False,
    only: str | None = None,
    clock: Clock | None = None,
    on_change: Callable[[str, str], None] = lambda change, name: None,
) -> ScheduleReport:
    """Reconcile the managed recurring runs of ``experiment`` with ``schedules``.

    Args:
        api: The KFP API of the namespace.
        experiment: Experiment the recurring runs belong to (created when missing, not on a dry run).
        schedules: The declared schedules.
        versions: ``pipeline -> (pipeline id, version id)`` the schedules run.
        dry_run: Only read; report what would change.
        only: Leave runs of other pipelines as they are (rollback).
        clock: Time source for hand-offs.
        on_change: Called after each change is made (``change, schedule name``), for the audit.

    Returns:
        What changed (or would change) and any hand-off warnings.
    """
    clock = clock or Clock()
    found = api.find_experiment(experiment)
    experiment_id = found.experiment_id if found is not None else ""
    existing, crons = _existing(api, experiment_id, only)
    fingerprints = {s.name: s.fingerprint(versions[s.pipeline][1]) for s in schedules}
    actions = plan([(s, fingerprints[s.name]) for s in schedules], existing)
    report = ScheduleReport()
    by_name = {s.name: s for s in schedules}
    report.changes["created"] = [s.name for s in actions.create]
    report.changes["replaced"] = [s.name for s, _ in actions.replace]
    report.changes["enabled"] = [r.name for r in actions.enable]
    report.changes["disabled"] = [r.name for r in actions.disable]
    report.changes["deleted"] = [r.name for r in actions.delete]
    touched = {n for k, names in report.changes.items() for n in names}
    report.changes["unchanged"] = [s.name for s in schedules if s.name not in touched]
    if dry_run or not actions.changes:
        return report
    if not experiment_id:
        experiment_id = api.experiment(experiment).experiment_id

    def create(schedule: Schedule) -> str:
        return _create(api, schedule, fingerprints[schedule.name], versions, experiment_id)

    for schedule in actions.create:
        create(schedule)
        on_change("created", schedule.name)
    handovers = [(s, runs, "replaced") for s, runs in actions.replace]
    handovers += [(by_name[r.name], [r], "enabled") for r in actions.enable]
    for schedule, old_runs, change in handovers:
        if not schedule.enabled:  # nothing fires: no hand-off to time
            create(schedule)
            _delete(api, old_runs)
        else:
            report.warnings += _hand_over(api, clock, schedule, old_runs, crons, create)
        on_change(change, schedule.name)
    for run in actions.disable:
        api.disable_recurring_run(run.id)
        on_change("disabled", run.name)
    for run in actions.delete:
        api.delete_recurring_run(run.id)
        on_change("deleted", run.name)
    return report


def _hand_over(
    api: KfpApi,
    clock: Clock,
    schedule: Schedule,
    old_runs: list[ExistingRun],
    crons: dict[str, str],
    create: Callable[[Schedule], str],
) -> list[str]:
    """Replace ``old_runs`` by a new run of ``schedule`` at a quiet moment; return warnings."""
    involved = [schedule.cron] + [crons[r.id] for r in old_runs if r.enabled and r.id in crons]
    now = clock.utc()
    moment = handoff.quiet_moment(involved, now)
    if moment is not None and moment > now:
        clock.sleep((moment - now).total_seconds())
    start = clock.utc()
    create(schedule)  # first: a failure here leaves the old run in place, never none
    _delete(api, old_runs)
    end = clock.utc()
    if not any(r.enabled for r in old_runs):
        return []  # nothing was firing: nothing to lose or double
    near = handoff.affected(involved, start, end)
    if not near:
        return []
    when = ", ".join(t.isoformat() for t in near)
    return [
        f"schedule {schedule.name}: tick(s) at {when} fell within the hand-off "
        f"({start:%H:%M:%S}-{end:%H:%M:%S} UTC); each may have run twice or not at all"
    ]


def _delete(api: KfpApi, runs: list[ExistingRun]) -> None:
    for run in runs:
        api.delete_recurring_run(run.id)


def _create(
    api: KfpApi,
    schedule: Schedule,
    fingerprint: str,
    versions: dict[str, tuple[str, str]],
    experiment_id: str,
) -> str:
    from kfp_server_api import (
        V2beta1CronSchedule,
        V2beta1PipelineVersionReference,
        V2beta1RecurringRun,
        V2beta1RuntimeConfig,
        V2beta1Trigger,
    )

    pipeline_id, version_id = versions[schedule.pipeline]
    body = V2beta1RecurringRun(
        display_name=PREFIX + schedule.name,
        description=json.dumps(
            {PROJECT: True, "fingerprint": fingerprint, "pipeline": schedule.pipeline}, sort_keys=True
        ),
        pipeline_version_reference=V2beta1PipelineVersionReference(
            pipeline_id=pipeline_id, pipeline_version_id=version_id
        ),
        runtime_config=V2beta1RuntimeConfig(parameters=schedule.parameters),
        trigger=V2beta1Trigger(cron_schedule=V2beta1CronSchedule(cron=schedule.cron)),
        mode="ENABLE" if schedule.enabled else "DISABLE",
        max_concurrency=str(schedule.max_concurrency),
        no_catchup=True,
        experiment_id=experiment_id,
    )
    return str(api.create_recurring_run(body).recurring_run_id)
