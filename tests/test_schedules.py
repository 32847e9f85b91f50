"""Recurring runs from git: the reconcile plan, and deploys against the fake KFP server."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from components.shared.errors import InputError
from kfops import deploy as deploy_module
from kfops.compile import compile_pipelines
from kfops.deploy import deploy
from kfops.schedules import ExistingRun, Schedule, load_schedules, managed, plan
from tests.kfp_fake import State, serve

TOKEN = "good-token"
NIGHTLY = Schedule("training-nightly", "training", "0 0 2 * * *", {"store": "s3://b/ml"})


def test_plan_creates_missing_and_keeps_matching_runs() -> None:
    fingerprint = NIGHTLY.fingerprint("v1")
    assert plan([(NIGHTLY, fingerprint)], []).create == [NIGHTLY]
    kept = plan([(NIGHTLY, fingerprint)], [ExistingRun("r1", NIGHTLY.name, fingerprint, True)])
    assert kept.changes == 0


def test_plan_replaces_a_changed_run_and_deletes_undeclared_ones() -> None:
    old = ExistingRun("r1", NIGHTLY.name, "stale", True)
    gone = ExistingRun("r2", "weekly", "x", True)
    actions = plan([(NIGHTLY, NIGHTLY.fingerprint("v2"))], [old, gone])
    assert actions.replace == [(NIGHTLY, [old])] and actions.delete == [gone] and actions.create == []


def test_plan_toggles_enabled_without_replacing() -> None:
    fingerprint = NIGHTLY.fingerprint("v1")
    paused = Schedule(**{**NIGHTLY.__dict__, "enabled": False})
    actions = plan([(paused, paused.fingerprint("v1"))], [ExistingRun("r1", NIGHTLY.name, fingerprint, True)])
    assert [r.id for r in actions.disable] == ["r1"] and actions.replace == []


def test_plan_removes_duplicates_left_by_an_interrupted_deploy() -> None:
    fingerprint = NIGHTLY.fingerprint("v1")
    runs = [ExistingRun("r1", NIGHTLY.name, fingerprint, True), ExistingRun("r2", NIGHTLY.name, "old", False)]
    assert [r.id for r in plan([(NIGHTLY, fingerprint)], runs).delete] == ["r2"]


def test_only_runs_made_by_kfops_are_managed() -> None:
    assert managed("kfops:nightly", json.dumps({"kfops": True, "fingerprint": "f"})) == ("nightly", "f")
    assert managed("nightly", json.dumps({"kfops": True})) is None
    assert managed("kfops:nightly", "made by hand") is None


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "a", "pipeline": "training", "cron": "0 2 * * *"}, "must have 6 fields"),
        ({"name": "a", "pipeline": "nope", "cron": "0 0 2 * * *"}, "unknown pipeline 'nope'"),
        ({"name": "A b", "pipeline": "training", "cron": "0 0 2 * * *"}, "name 'A b'"),
        ({"name": "a", "pipeline": "training", "cron": "0 0 2 * * *", "colour": 1}, "unknown key 'colour'"),
        (
            {
                "name": "a",
                "pipeline": "training",
                "cron": "0 0 2 * * *",
                "parameters": {"webhook_url": "https://x"},
            },
            "parameter 'webhook_url' is a secret and must not be in git",
        ),
    ],
)
def test_bad_schedule_files_are_named(tmp_path: Path, entry: dict[str, object], message: str) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(yaml.safe_dump({"schedules": [entry]}))
    with pytest.raises(InputError, match=message):
        load_schedules(path, {"training"})


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    entry = {"name": "a", "pipeline": "training", "cron": "0 0 2 * * *"}
    path = tmp_path / "schedules.yaml"
    path.write_text(yaml.safe_dump({"schedules": [entry, entry]}))
    with pytest.raises(InputError, match="'a' appears twice"):
        load_schedules(path, {"training"})


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Only the training pipeline (the schedules here are all training's)."""
    folder = tmp_path_factory.mktemp("compiled")
    (training,) = (p for p in compile_pipelines(tmp_path_factory.mktemp("all")) if p.stem == "training")
    shutil.copy(training, folder)
    return folder


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, State]]:
    monkeypatch.setattr(deploy_module, "BACKOFF_SECONDS", 0.01)
    with serve(State(token=TOKEN)) as (host, state):
        yield host, state


def _write(path: Path, *schedules: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump({"experiment": "kfops", "schedules": list(schedules)}))
    return path


NIGHTLY_ENTRY = {"name": "nightly", "pipeline": "training", "cron": "0 0 2 * * *", "parameters": {"seed": 1}}
WEEKLY_ENTRY = {"name": "weekly", "pipeline": "training", "cron": "0 0 3 * * 1", "enabled": False}


def _runs(state: State) -> dict[str, dict[str, object]]:
    return {str(r["display_name"]): r for r in state.recurring.values()}


def test_first_deploy_creates_and_second_changes_nothing(
    server: tuple[str, State], compiled: Path, tmp_path: Path
) -> None:
    host, state = server
    schedules = _write(tmp_path / "s.yaml", NIGHTLY_ENTRY, WEEKLY_ENTRY)
    first = deploy(host, TOKEN, compiled, schedules_file=schedules)
    assert sorted(first.schedules["created"]) == ["nightly", "weekly"]
    runs = _runs(state)
    assert runs["kfops:nightly"]["mode"] == "ENABLE" and runs["kfops:weekly"]["mode"] == "DISABLE"
    assert runs["kfops:nightly"]["trigger"] == {"cron_schedule": {"cron": "0 0 2 * * *"}}
    before = len(state.log)
    second = deploy(host, TOKEN, compiled, schedules_file=schedules)
    assert second.uploaded == [] and all(not v for v in second.schedules.values())
    assert not [m for m, _ in state.log[before:] if m in ("POST", "DELETE") and _ != "/apis/v1beta1/healthz"]


def test_a_changed_schedule_is_replaced_without_overlap_or_gap(
    server: tuple[str, State], compiled: Path, tmp_path: Path
) -> None:
    host, state = server
    deploy(host, TOKEN, compiled, schedules_file=_write(tmp_path / "a.yaml", NIGHTLY_ENTRY))
    old_id = next(iter(state.recurring))
    changed = {**NIGHTLY_ENTRY, "cron": "0 30 2 * * *"}
    result = deploy(host, TOKEN, compiled, schedules_file=_write(tmp_path / "b.yaml", changed))
    assert result.schedules["replaced"] == ["nightly"]
    (run,) = state.recurring.values()
    assert run["recurring_run_id"] != old_id and run["mode"] == "ENABLE"
    assert run["trigger"] == {"cron_schedule": {"cron": "0 30 2 * * *"}}
    assert state.max_enabled == 1  # never two enabled runs for one name


def test_a_new_pipeline_version_moves_its_schedules(
    server: tuple[str, State], compiled: Path, tmp_path: Path
) -> None:
    host, state = server
    schedules = _write(tmp_path / "s.yaml", NIGHTLY_ENTRY)
    deploy(host, TOKEN, compiled, schedules_file=schedules)
    changed = tmp_path / "changed"
    shutil.copytree(compiled, changed)
    (changed / "training.yaml").write_text((compiled / "training.yaml").read_text() + "\n# v2\n")
    result = deploy(host, TOKEN, changed, schedules_file=schedules)
    assert result.schedules["replaced"] == ["nightly"]
    (run,) = state.recurring.values()
    latest = state.versions[run["pipeline_version_reference"]["pipeline_id"]][-1]
    assert run["pipeline_version_reference"]["pipeline_version_id"] == latest["pipeline_version_id"]


def test_removed_schedules_are_deleted_and_hand_made_runs_are_left_alone(
    server: tuple[str, State], compiled: Path, tmp_path: Path
) -> None:
    host, state = server
    deploy(host, TOKEN, compiled, schedules_file=_write(tmp_path / "a.yaml", NIGHTLY_ENTRY, WEEKLY_ENTRY))
    experiment_id = next(iter(state.experiments))
    state.recurring["hand"] = {
        "recurring_run_id": "hand",
        "display_name": "someone's run",
        "mode": "ENABLE",
        "experiment_id": experiment_id,
        "description": "mine",
    }
    result = deploy(host, TOKEN, compiled, schedules_file=_write(tmp_path / "b.yaml", NIGHTLY_ENTRY))
    assert result.schedules["deleted"] == ["weekly"]
    assert sorted(_runs(state)) == ["kfops:nightly", "someone's run"]


def _version_of_run(state: State) -> str:
    (run,) = state.recurring.values()
    return str(run["pipeline_version_reference"]["pipeline_version_id"])


def _variants(compiled: Path, tmp_path: Path, count: int) -> list[Path]:
    out = []
    for i in range(count):
        folder = tmp_path / f"v{i}"
        shutil.copytree(compiled, folder)
        (folder / "training.yaml").write_text((compiled / "training.yaml").read_text() + f"\n# v{i}\n")
        out.append(folder)
    return out


def test_rollback_moves_schedules_to_the_previous_version(
    server: tuple[str, State], compiled: Path, tmp_path: Path
) -> None:
    from kfops.rollback import rollback

    host, state = server
    schedules = _write(tmp_path / "s.yaml", NIGHTLY_ENTRY)
    first, second = _variants(compiled, tmp_path, 2)
    deploy(host, TOKEN, first, schedules_file=schedules)
    v1 = _version_of_run(state)
    deploy(host, TOKEN, second, schedules_file=schedules)
    assert _version_of_run(state) != v1
    outcome = rollback(host, TOKEN, "training", schedules)
    assert _version_of_run(state) == v1 and outcome["schedules"]["replaced"] == ["nightly"]
    assert state.max_enabled == 1


def test_rollback_to_an_unknown_version_is_refused(
    server: tuple[str, State], compiled: Path, tmp_path: Path
) -> None:
    from kfops.rollback import rollback

    host, _ = server
    schedules = _write(tmp_path / "s.yaml", NIGHTLY_ENTRY)
    deploy(host, TOKEN, compiled, schedules_file=schedules)
    with pytest.raises(InputError, match="has no version 'training-000'"):
        rollback(host, TOKEN, "training", schedules, to="training-000")
    with pytest.raises(InputError, match="is the oldest version"):
        rollback(host, TOKEN, "training", schedules)


def test_rollback_prunes_unused_versions_beyond_the_newest_n(
    server: tuple[str, State], compiled: Path, tmp_path: Path
) -> None:
    from kfops.rollback import rollback

    host, state = server
    schedules = _write(tmp_path / "s.yaml", NIGHTLY_ENTRY)
    for folder in _variants(compiled, tmp_path, 5):
        deploy(host, TOKEN, folder, schedules_file=schedules)
    (versions,) = state.versions.values()
    names = [v["display_name"] for v in versions]
    outcome = rollback(host, TOKEN, "training", schedules, to=names[0], keep=2)
    remaining = [v["display_name"] for v in next(iter(state.versions.values()))]
    assert names[0] in remaining  # the rollback target is in use, never pruned
    assert sorted(outcome["pruned"]) == sorted(names[1:3])
    assert remaining == [names[0], *names[3:]]


def test_dry_run_reports_schedule_changes_and_writes_nothing(
    server: tuple[str, State], compiled: Path, tmp_path: Path
) -> None:
    host, state = server
    result = deploy(
        host, TOKEN, compiled, schedules_file=_write(tmp_path / "s.yaml", NIGHTLY_ENTRY), dry_run=True
    )
    assert result.schedules["created"] == ["nightly"] and len(result.uploaded) == 1
    assert not [m for m, path in state.log if m in ("POST", "DELETE")]
    assert state.pipelines == {} and state.recurring == {}


def test_listings_follow_every_page_of_results(
    compiled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one item per page, three managed runs still reconcile to no change on redeploy."""
    monkeypatch.setattr(deploy_module, "BACKOFF_SECONDS", 0.01)
    entries = [{**NIGHTLY_ENTRY, "name": f"nightly-{i}"} for i in range(3)]
    schedules = _write(tmp_path / "s.yaml", *entries)
    with serve(State(token=TOKEN, max_page_size=1)) as (host, state):
        deploy(host, TOKEN, compiled, schedules_file=schedules)
        before = len(state.log)
        second = deploy(host, TOKEN, compiled, schedules_file=schedules)
        listing_requests = [p for m, p in state.log[before:] if m == "GET" and p.endswith("/recurringruns")]
        assert len(listing_requests) == 3  # one page per run, nothing missed
        assert all(not changes for changes in second.schedules.values())
        assert sorted(_runs(state)) == [f"kfops:nightly-{i}" for i in range(3)]


def test_the_repositorys_schedules_file_declares_every_pipeline_disabled_until_configured() -> None:
    from kfops.schedules import load_schedules
    from pipelines import PIPELINES
    from tests.conftest import REPO

    _, schedules = load_schedules(REPO / "schedules.yaml", set(PIPELINES))
    assert sorted(s.pipeline for s in schedules) == sorted(PIPELINES)
    assert not any(s.enabled for s in schedules)  # nothing runs against a placeholder bucket
