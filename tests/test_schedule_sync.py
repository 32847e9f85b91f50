"""Carrying out the schedule plan against the fake KFP server, on a virtual clock.

``reconcile_schedules`` reads the managed recurring runs, then creates, replaces,
disables and deletes them; replacements hand over at a quiet moment between cron
ticks (kfops.handoff). Here kfops and the fake server share one virtual clock, so
a wait for a quiet moment is recorded instead of slept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from components.kfp_api import KfpApi, RetryPolicy
from components.kfp_api.managed import managed_pipeline
from kfops import handoff
from kfops.schedule_sync import Clock, ScheduleReport, reconcile_schedules
from kfops.schedules import Schedule, managed
from tests.kfp_fake import State, serve

TOKEN = "good-token"
NS = "team-ml"
EXPERIMENT = "kfops"
SPEC = """\
pipelineInfo: {name: train}
root: {dag: {tasks: {}}}
schemaVersion: 2.1.0
sdkVersion: kfp-2.17.0
"""
HOURLY = "0 0 * * * *"  # on the hour (seconds first)
HALF_PAST = "0 30 * * * *"
EVERY_TEN_SECONDS = "*/10 * * * * *"  # too often for any quiet moment
T0 = datetime(2030, 1, 1, tzinfo=UTC).timestamp()  # a tick of HOURLY
NIGHTLY = Schedule("nightly", "training", HOURLY, {"seed": 1})


@dataclass
class VirtualClock:
    """One timeline for kfops and the fake server; sleeping moves it on and is recorded."""

    time: float
    slept: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.time += seconds


@dataclass
class Kfp:
    api: KfpApi
    state: State
    clock: VirtualClock
    versions: dict[str, tuple[str, str]]
    changes: list[tuple[str, str]] = field(default_factory=list)

    def sync(self, *schedules: Schedule, **kwargs: Any) -> ScheduleReport:
        """Reconcile the experiment with ``schedules``, recording each change as the audit would."""
        return reconcile_schedules(
            self.api,
            EXPERIMENT,
            list(schedules),
            self.versions,
            clock=Clock(now=self.clock.now, sleep=self.clock.sleep),
            on_change=lambda change, name: self.changes.append((change, name)),
            **kwargs,
        )

    def runs(self) -> dict[str, dict[str, Any]]:
        """The server's recurring runs by display name."""
        return {str(r["display_name"]): r for r in self.state.recurring.values()}

    def writes_since(self, index: int) -> list[tuple[str, str]]:
        return [(r.method, r.path.rsplit("/", 1)[-1]) for r in self.state.log[index:] if r.method != "GET"]


@pytest.fixture
def kfp(tmp_path: Path) -> Iterator[Kfp]:
    """The fake KFP server with the three pipelines uploaded, on a clock 10 min past a full hour."""
    clock = VirtualClock(T0 + 600)
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(SPEC)
    with serve(State(clock=clock.now)) as (host, state):
        api = KfpApi(host, TOKEN, NS, policy=RetryPolicy(backoff=0.01, read_timeout=5.0, deadline=20.0))
        versions = {}
        for name in ("inference", "monitoring", "training"):
            pipeline, _ = api.upload_pipeline(spec, name, "")
            (version,) = api.versions(pipeline.pipeline_id)
            versions[name] = (pipeline.pipeline_id, version.pipeline_version_id)
        yield Kfp(api, state, clock, versions)
        assert state.violations == [], state.violations


def _created_at(run: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(run["created_at"])).timestamp()


def _hand_made(kfp: Kfp, display_name: str, description: str) -> None:
    from kfp_server_api import V2beta1CronSchedule, V2beta1RecurringRun, V2beta1Trigger

    pipeline_id, version_id = kfp.versions["training"]
    kfp.api.create_recurring_run(
        V2beta1RecurringRun(
            display_name=display_name,
            description=description,
            experiment_id=kfp.api.experiment(EXPERIMENT).experiment_id,
            pipeline_version_reference={"pipeline_id": pipeline_id, "pipeline_version_id": version_id},
            trigger=V2beta1Trigger(cron_schedule=V2beta1CronSchedule(cron=HOURLY)),
            mode="ENABLE",
            max_concurrency="1",
        )
    )


def test_a_dry_run_reports_what_it_would_create_and_writes_nothing(kfp: Kfp) -> None:
    before = len(kfp.state.log)
    report = kfp.sync(NIGHTLY, dry_run=True)
    assert report.changes["created"] == ["nightly"] and report.warnings == []
    assert kfp.writes_since(before) == [] and kfp.state.experiments == {} and kfp.changes == []


def test_a_created_run_carries_the_mark_another_kfops_release_reads_back(kfp: Kfp) -> None:
    weekly = Schedule("weekly", "monitoring", HALF_PAST, enabled=False, max_concurrency=3)
    report = kfp.sync(NIGHTLY, weekly)
    assert report.changes["created"] == ["nightly", "weekly"]
    assert kfp.changes == [("created", "nightly"), ("created", "weekly")]
    runs = kfp.runs()
    assert sorted(runs) == ["kfops:nightly", "kfops:weekly"]
    nightly, weekly_run = runs["kfops:nightly"], runs["kfops:weekly"]
    assert json.loads(nightly["description"]) == {
        "kfops": True,
        "fingerprint": NIGHTLY.fingerprint(kfp.versions["training"][1]),
        "pipeline": "training",
    }
    assert managed(nightly["display_name"], nightly["description"]) == (
        "nightly",
        NIGHTLY.fingerprint(kfp.versions["training"][1]),
    )
    listed = {r.display_name: r for r in kfp.api.recurring_runs()}
    assert managed_pipeline(listed["kfops:weekly"]) == "monitoring"
    assert nightly["mode"] == "ENABLE" and weekly_run["mode"] == "DISABLE"
    assert weekly_run["max_concurrency"] == "3" and nightly["no_catchup"] is True
    assert weekly_run["pipeline_version_reference"]["pipeline_version_id"] == kfp.versions["monitoring"][1]
    assert kfp.sync(NIGHTLY, weekly).changes["unchanged"] == ["nightly", "weekly"]


def test_options_are_taken_by_name_only_so_a_stray_argument_cannot_mean_dry_run(kfp: Kfp) -> None:
    positional: tuple[Any, ...] = (kfp.api, EXPERIMENT, [NIGHTLY], kfp.versions, True)
    with pytest.raises(TypeError):
        reconcile_schedules(*positional)
    assert kfp.state.recurring == {}


def test_runs_not_made_by_kfops_listed_first_do_not_hide_the_managed_ones(kfp: Kfp) -> None:
    _hand_made(kfp, "someone's run", "mine")
    _hand_made(kfp, "kfops:copied-by-hand", json.dumps({"fingerprint": "f"}))  # named alike, not marked
    kfp.sync(NIGHTLY)
    report = kfp.sync(NIGHTLY)
    assert report.changes["unchanged"] == ["nightly"] and report.changes["created"] == []
    assert sorted(kfp.runs()) == ["kfops:copied-by-hand", "kfops:nightly", "someone's run"]


def test_a_rollback_of_one_pipeline_leaves_the_runs_of_the_others_alone(kfp: Kfp) -> None:
    """Runs are listed in creation order: one of a pipeline sorting before and one after come first."""
    daily = Schedule("daily", "inference", HALF_PAST)
    drift = Schedule("drift", "monitoring", HALF_PAST)
    kfp.sync(daily, NIGHTLY)
    kfp.sync(daily, NIGHTLY, drift)
    before = len(kfp.state.log)
    report = kfp.sync(drift, only="monitoring")
    assert report.changes["unchanged"] == ["drift"]
    assert [name for change, names in report.changes.items() if change != "unchanged" for name in names] == []
    assert kfp.writes_since(before) == []
    assert sorted(kfp.runs()) == ["kfops:daily", "kfops:drift", "kfops:nightly"]


def test_a_schedule_turned_off_disables_its_run_in_place(kfp: Kfp) -> None:
    kfp.sync(NIGHTLY)
    (run_id,) = kfp.state.recurring
    report = kfp.sync(replace(NIGHTLY, enabled=False))
    assert report.changes["disabled"] == ["nightly"] and kfp.changes[-1] == ("disabled", "nightly")
    assert list(kfp.state.recurring) == [run_id] and kfp.state.recurring[run_id]["mode"] == "DISABLE"


def test_a_schedule_no_longer_declared_has_its_run_deleted(kfp: Kfp) -> None:
    weekly = Schedule("weekly", "training", HALF_PAST)
    kfp.sync(NIGHTLY, weekly)
    report = kfp.sync(NIGHTLY)
    assert report.changes["deleted"] == ["weekly"] and report.changes["unchanged"] == ["nightly"]
    assert kfp.changes[-1] == ("deleted", "weekly") and sorted(kfp.runs()) == ["kfops:nightly"]


def test_a_replacement_waits_until_the_old_runs_imminent_tick_has_passed(kfp: Kfp) -> None:
    """The old run fires on the hour, the new one at half past: 5 s before the hour the
    hand-off waits until GUARD seconds after the old run's tick, then creates before deleting."""
    kfp.sync(NIGHTLY)
    (old_id,) = kfp.state.recurring
    kfp.clock.time = T0 + 3600 - 5
    before = len(kfp.state.log)
    report = kfp.sync(replace(NIGHTLY, cron=HALF_PAST))
    assert report.changes["replaced"] == ["nightly"] and report.warnings == []
    assert kfp.clock.slept == [5 + handoff.GUARD]
    (new,) = kfp.state.recurring.values()
    assert new["recurring_run_id"] != old_id and _created_at(new) == T0 + 3600 + handoff.GUARD
    assert kfp.writes_since(before) == [("POST", "recurringruns"), ("DELETE", old_id)]
    assert kfp.changes[-1] == ("replaced", "nightly")


def test_a_paused_old_runs_cron_does_not_delay_the_hand_off(kfp: Kfp) -> None:
    """A disabled run fires nothing, so its imminent tick is no reason to wait."""
    kfp.sync(replace(NIGHTLY, enabled=False))
    kfp.clock.time = T0 + 3600 - 5
    report = kfp.sync(replace(NIGHTLY, cron=HALF_PAST))
    assert report.changes["replaced"] == ["nightly"] and report.warnings == []
    assert sum(kfp.clock.slept) == 0  # handed over at once
    (new,) = kfp.state.recurring.values()
    assert _created_at(new) == T0 + 3600 - 5 and new["mode"] == "ENABLE"


def test_a_cron_too_frequent_for_a_quiet_moment_hands_over_at_once_and_warns(kfp: Kfp) -> None:
    often = Schedule("often", "training", EVERY_TEN_SECONDS)
    kfp.sync(often)
    (old_id,) = kfp.state.recurring
    report = kfp.sync(replace(often, parameters={"seed": 2}))
    assert report.changes["replaced"] == ["often"] and sum(kfp.clock.slept) == 0
    (warning,) = report.warnings
    # Handed over at 00:10:00 (no time passes on the virtual clock): every tick within GUARD of it.
    assert warning == (
        "schedule often: tick(s) at 2030-01-01T00:09:50+00:00, 2030-01-01T00:10:00+00:00, "
        "2030-01-01T00:10:10+00:00 fell within the hand-off (00:10:00-00:10:00 UTC); "
        "each may have run twice or not at all"
    )
    assert old_id not in kfp.state.recurring and len(kfp.state.recurring) == 1
