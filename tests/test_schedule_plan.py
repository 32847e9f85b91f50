"""The schedules file and the reconcile plan, in-process: no server, no pipelines compiled."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import os
from pathlib import Path

import pytest
import yaml

from components.shared.errors import InputError
from components.shared.names import DEFAULT_EXPERIMENT
from kfops.schedules import (
    MAX_CONCURRENCY,
    Actions,
    ExistingRun,
    Schedule,
    cron_problem,
    load_schedules,
    plan,
)

PIPELINES = {"training", "monitoring"}
NIGHTLY = Schedule("nightly", "training", "0 0 2 * * *", {"store": "s3://b/ml"})


def _file(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "schedules.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _entry(**fields: object) -> dict[str, object]:
    return {"name": "a", "pipeline": "training", "cron": "0 0 2 * * *", **fields}


def _load(path: Path) -> tuple[str, list[Schedule]]:
    return load_schedules(path, PIPELINES, check_parameters=False)


# --- cron ---------------------------------------------------------------------------


def test_a_six_field_cron_that_fires_has_no_problem() -> None:
    assert cron_problem("0 0 2 * * *") is None
    assert cron_problem("0 0 0 29 2 *") is None  # only in leap years, but it does fire


def test_a_cron_with_a_seventh_year_field_is_refused_for_its_field_count() -> None:
    # croniter accepts a year as a seventh field; KFP's cron does not.
    assert cron_problem("0 0 2 * * * 2030") == "must have 6 fields (seconds first, e.g. '0 0 3 * * 1')"


# --- reading the file -----------------------------------------------------------------


def test_invalid_yaml_is_reported_with_its_line_and_column_counted_from_one(tmp_path: Path) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text("schedules:\n  - name: a: b\n")  # the second ':' is on line 2, column 12
    with pytest.raises(InputError) as caught:
        _load(path)
    assert str(caught.value) == (
        f"schedules file {path} is not valid YAML: mapping values are not allowed here at line 2, column 12"
    )


def test_invalid_yaml_at_the_start_of_a_line_is_reported_at_column_one(tmp_path: Path) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text("experiment: x\nschedules:\n\t- a\n")  # a tab starts line 3
    with pytest.raises(InputError, match=r"is not valid YAML: .* at line 3, column 1$"):
        _load(path)


def test_a_missing_schedules_file_is_reported_with_the_system_reason(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(InputError) as caught:
        _load(path)
    assert str(caught.value) == f"cannot read schedules file {path}: {os.strerror(errno.ENOENT)}"


def test_a_schedules_file_that_is_not_utf8_is_reported_as_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_bytes(b"experiment: caf\xe9\n")  # latin-1, not UTF-8
    with pytest.raises(InputError, match=f"^cannot read schedules file {path}: "):
        _load(path)


def test_a_schedules_file_with_control_characters_is_reported_as_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text("experiment: x\x07\n")
    with pytest.raises(InputError, match=f"^cannot read schedules file {path}: .*special characters"):
        _load(path)


# --- the file's shape -------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"experiment": "x", "schedules": [], "colour": "blue"},  # a mapping with an unknown key
        [{"experiment": "x"}],  # a list, not a mapping
        "schedules",
    ],
    ids=["unknown-key", "list", "text"],
)
def test_a_schedules_file_that_is_not_the_expected_mapping_is_refused(tmp_path: Path, data: object) -> None:
    path = _file(tmp_path, data)
    with pytest.raises(InputError, match="expected keys 'experiment' and 'schedules'"):
        _load(path)


def test_errors_name_the_schedule_by_its_position_counted_from_one(tmp_path: Path) -> None:
    path = _file(tmp_path, {"schedules": [_entry(name="a"), _entry(name="b", cron="0 2 * * *")]})
    with pytest.raises(InputError) as caught:
        _load(path)
    assert str(caught.value).startswith(f"{path}: schedule 2 (b): cron '0 2 * * *' must have 6 fields")


def test_of_several_unknown_keys_the_alphabetically_first_is_named(tmp_path: Path) -> None:
    path = _file(tmp_path, {"schedules": [_entry(zone="x", colour=1, size=2)]})
    with pytest.raises(InputError, match=r"unknown key 'colour'$"):
        _load(path)


@pytest.mark.parametrize("concurrency", [1, 2, MAX_CONCURRENCY])
def test_max_concurrency_within_the_servers_range_is_loaded(tmp_path: Path, concurrency: int) -> None:
    _, [schedule] = _load(_file(tmp_path, {"schedules": [_entry(max_concurrency=concurrency)]}))
    assert schedule.max_concurrency == concurrency


@pytest.mark.parametrize("concurrency", [0, MAX_CONCURRENCY + 1, -1, False, 1.0])
def test_max_concurrency_outside_the_servers_range_is_refused(tmp_path: Path, concurrency: object) -> None:
    with pytest.raises(InputError, match="max_concurrency must be an integer from 1 to 10"):
        _load(_file(tmp_path, {"schedules": [_entry(max_concurrency=concurrency)]}))


def test_an_entry_with_only_the_required_keys_gets_the_defaults_of_a_schedule(tmp_path: Path) -> None:
    _, [loaded] = _load(_file(tmp_path, {"schedules": [_entry()]}))
    assert loaded == Schedule("a", "training", "0 0 2 * * *")
    assert loaded.enabled is True and 1 <= loaded.max_concurrency <= MAX_CONCURRENCY


def test_every_declared_field_is_loaded(tmp_path: Path) -> None:
    entry = _entry(name="b-2", pipeline="monitoring", parameters={"k": 1}, enabled=False, max_concurrency=3)
    _, [loaded] = _load(_file(tmp_path, {"schedules": [entry]}))
    assert loaded == Schedule("b-2", "monitoring", "0 0 2 * * *", {"k": 1}, False, 3)


def test_the_duplicate_named_is_the_name_that_appears_twice_not_the_first(tmp_path: Path) -> None:
    path = _file(tmp_path, {"schedules": [_entry(name="a"), _entry(name="b"), _entry(name="b")]})
    with pytest.raises(InputError, match=r"schedule name 'b' appears twice"):
        _load(path)


def test_the_declared_experiment_is_returned(tmp_path: Path) -> None:
    experiment, _ = _load(_file(tmp_path, {"experiment": "team-nightly", "schedules": [_entry()]}))
    assert experiment == "team-nightly"


@pytest.mark.parametrize(
    "data", [{}, {"experiment": None}, {"experiment": ""}], ids=["absent", "null", "empty"]
)
def test_without_an_experiment_the_default_experiment_is_used(tmp_path: Path, data: dict) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(yaml.safe_dump(data) if data else "")
    assert _load(path) == (DEFAULT_EXPERIMENT, [])


@pytest.mark.parametrize("experiment", ["   ", 5, ["a"]])
def test_an_experiment_that_is_blank_or_not_text_is_refused(tmp_path: Path, experiment: object) -> None:
    with pytest.raises(InputError, match="experiment must be a non-empty string"):
        _load(_file(tmp_path, {"experiment": experiment}))


def test_check_parameters_is_keyword_only_and_the_rest_may_be_named(tmp_path: Path) -> None:
    # A bare positional True/False would not say what it switches off.
    path = _file(tmp_path, {"schedules": [_entry()]})
    assert load_schedules(path=path, pipelines=PIPELINES, check_parameters=False)[1][0].name == "a"
    with pytest.raises(TypeError):
        load_schedules(path, PIPELINES, False)  # type: ignore[misc]


def test_a_loaded_schedule_cannot_be_altered_after_it_was_checked(tmp_path: Path) -> None:
    _, [loaded] = _load(_file(tmp_path, {"schedules": [_entry()]}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.cron = "not a cron"  # type: ignore[misc]


# --- fingerprints -----------------------------------------------------------------------


def test_the_plan_fingerprint_ignores_the_order_parameters_are_written_in() -> None:
    reordered = dataclasses.replace(NIGHTLY, parameters={"seed": 1, "store": "s3://b/ml"})
    same = dataclasses.replace(NIGHTLY, parameters={"store": "s3://b/ml", "seed": 1})
    assert list(reordered.parameters) != list(same.parameters)
    assert reordered.fingerprint("v1") == same.fingerprint("v1")


def test_the_plan_fingerprint_format_matches_what_earlier_releases_stored() -> None:
    # Fingerprints live in the descriptions of runs on the server: a change of format
    # would replace every recurring run on the next deploy. The format: the first 16 hex
    # digits of the SHA-256 of the declared fields (``enabled`` left out) and the
    # version id, as JSON with sorted keys.
    declared = {
        "name": "nightly",
        "pipeline": "training",
        "cron": "0 0 2 * * *",
        "parameters": {"store": "s3://b/ml"},
        "enabled": None,
        "max_concurrency": 1,
        "version_id": "v1",
    }
    expected = hashlib.sha256(json.dumps(declared, sort_keys=True).encode()).hexdigest()[:16]
    assert NIGHTLY.fingerprint("v1") == expected


def test_the_plan_fingerprint_changes_with_the_version_but_not_with_enabled() -> None:
    paused = dataclasses.replace(NIGHTLY, enabled=False)
    assert paused.fingerprint("v1") == NIGHTLY.fingerprint("v1") != NIGHTLY.fingerprint("v2")


# --- the plan ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["create", "replace", "enable", "disable", "delete"])
def test_the_plan_counts_each_action_as_one_change(kind: str) -> None:
    run = ExistingRun("r1", "nightly", "f", True)
    item = {"create": NIGHTLY, "replace": (NIGHTLY, [run])}.get(kind, run)
    assert Actions(**{kind: [item]}).changes == 1
    assert Actions(**{kind: [item, item]}).changes == 2


def test_the_plan_counts_changes_of_every_kind_together() -> None:
    run = ExistingRun("r1", "nightly", "f", True)
    actions = Actions([NIGHTLY], [(NIGHTLY, [run])], [run], [run, run], [run])
    assert actions.changes == 6
    assert Actions().changes == 0


@pytest.mark.parametrize("stale", ["", "0" * 16, "f" * 16, "zz"])
def test_plan_replaces_a_run_whose_fingerprint_differs_in_either_direction(stale: str) -> None:
    fingerprint = NIGHTLY.fingerprint("v1")
    old = ExistingRun("r1", NIGHTLY.name, stale, True)
    actions = plan([(NIGHTLY, fingerprint)], [old])
    assert actions.replace == [(NIGHTLY, [old])] and actions.changes == 1


def test_plan_keeps_the_matching_run_among_duplicates_wherever_it_is_listed() -> None:
    fingerprint = NIGHTLY.fingerprint("v1")
    match = ExistingRun("r-match", NIGHTLY.name, fingerprint, True)
    lower = ExistingRun("r-lower", NIGHTLY.name, "0" * 16, True)
    higher = ExistingRun("r-higher", NIGHTLY.name, "f" * 16, True)
    actions = plan([(NIGHTLY, fingerprint)], [lower, match, higher])
    assert actions.delete == [lower, higher] and actions.changes == 2


def test_plan_enables_a_paused_run_that_is_declared_enabled() -> None:
    fingerprint = NIGHTLY.fingerprint("v1")
    paused = ExistingRun("r1", NIGHTLY.name, fingerprint, False)
    actions = plan([(NIGHTLY, fingerprint)], [paused])
    assert actions.enable == [paused] and actions.changes == 1


@pytest.mark.parametrize("enabled", [True, False])
def test_plan_leaves_a_matching_run_alone_when_its_state_is_as_declared(enabled: bool) -> None:
    schedule = dataclasses.replace(NIGHTLY, enabled=enabled)
    fingerprint = schedule.fingerprint("v1")
    actions = plan([(schedule, fingerprint)], [ExistingRun("r1", schedule.name, fingerprint, enabled)])
    assert actions == Actions()


def test_a_found_run_cannot_be_altered_by_what_carries_out_the_plan() -> None:
    run = ExistingRun("r1", "nightly", "f", True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.enabled = False  # type: ignore[misc]
