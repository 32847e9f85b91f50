"""Champion records: where challenges are kept, who acted, races lost and retried, rollback targets.

Fast: most tests use a store holding only version metadata (a first champion, a promotion
by hand and a rollback never score a model); the races and the task check re-score real
models trained once for the module.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from components.champion import io as champion_io
from components.champion.core import challenge, parse_rules
from components.champion.io import (
    ChampionMoved,
    actor,
    history,
    read_challenge,
    rollback_champion,
    rollback_target,
    run_champion,
    set_champion,
)
from components.evaluate.core import ID, SCORE_PREFIX, Y_PRED, Y_TRUE
from components.evaluate.io import run_evaluate
from components.ingest.io import run_ingest
from components.model_storage.io import store_model
from components.preprocess.io import run_preprocess
from components.shared.errors import InputError
from components.shared.models import read_champion
from components.shared.store import open_store
from components.split.io import run_split
from components.train.io import run_train
from tests.conftest import tree_digest

T0 = datetime(2026, 1, 1, tzinfo=UTC)
UNREAD = "/nonexistent/never-read.parquet"  # a first champion is not scored: nothing is read


def _metadata_store(root: Path, model_name: str, *versions: str) -> str:
    """A store whose versions have metadata only (enough wherever no model is scored)."""
    for version in versions:
        folder = root / "models" / model_name / version
        folder.mkdir(parents=True)
        metadata = {"version": version, "uri": f"{root}/models/{model_name}/{version}/", "metrics": {}}
        (folder / "metadata.json").write_text(json.dumps(metadata))
    return str(root)


def _record(version: str, action: str = "promote", previous: str | None = None) -> dict[str, Any]:
    return {"version": version, "action": action, "previous": previous}


# --- the pure challenge ---------------------------------------------------------------------------


def test_a_classifier_with_text_labels_is_challenged_on_its_labels() -> None:
    """Class labels need not be numbers: they are compared as labels, never as floats."""
    truth = ["benign", "malignant"] * 100

    def record(predicted: list[str]) -> pd.DataFrame:
        frame = pd.DataFrame({ID: range(len(truth)), Y_TRUE: truth, Y_PRED: predicted})
        for name in ("benign", "malignant"):
            frame[f"{SCORE_PREFIX}{name}"] = [float(p == name) for p in predicted]
        return frame

    worse = [("malignant" if t == "benign" else "benign") if i % 4 == 0 else t for i, t in enumerate(truth)]
    classes = ["benign", "malignant"]
    refused = challenge(record(truth), record(worse), classes, classes, parse_rules(""))
    assert not refused.promote and refused.reason.startswith("accuracy regressed: 0.7500 vs champion 1.0000")
    kept = challenge(record(truth), record(truth), classes, classes, parse_rules(""), task="classification")
    assert kept.promote and [d.metric for d in kept.decisions] == ["accuracy"]


# --- challenge records --------------------------------------------------------------------------


def test_a_challenge_is_kept_under_the_models_challenges_folder(tmp_path: Path) -> None:
    """README: every challenge is kept in models/NAME/challenges/ (one record per version)."""
    store = _metadata_store(tmp_path, "m", "v1")
    _metadata_store(tmp_path, "n", "v1")
    run_champion(store, "m", "v1", UNREAD, UNREAD, now=T0)
    run_champion(store, "n", "v1", UNREAD, UNREAD, promote=False, now=T0)
    kept = json.loads((tmp_path / "models" / "m" / "challenges" / "v1.json").read_text())
    assert kept["candidate"] == "v1" and kept["champion"] is None and kept["verdict"] == "promoted"
    assert kept["at"] == T0.isoformat() and kept["model_name"] == "m"
    other = json.loads((tmp_path / "models" / "n" / "challenges" / "v1.json").read_text())
    assert other["verdict"] == "not promoted"  # same version name, other model: its own record
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("challenges/*")) == [
        "models/m/challenges/v1.json",
        "models/n/challenges/v1.json",
    ]
    assert read_challenge(store, "m", "v1") == kept
    assert read_challenge(store, "m", "v2") is None  # never challenged


def test_the_current_champion_is_not_challenged_again(tmp_path: Path) -> None:
    store = _metadata_store(tmp_path, "m", "v1")
    run_champion(store, "m", "v1", UNREAD, UNREAD, now=T0)
    before = tree_digest(tmp_path)
    again = run_champion(store, "m", "v1", UNREAD, UNREAD, now=T0.replace(hour=1))
    assert not again.promote and again.verdict == "already champion"
    assert again.reason == "v1 is already the champion"
    assert tree_digest(tmp_path) == before  # no new history record, the challenge record kept


def test_rules_promote_action_and_the_clock_are_passed_by_name_only() -> None:
    """A bare `False` in a call would not say that the run may not promote (nor a bare time
    that it is a clock override); the store, model and inputs stay positional-or-keyword."""
    cases: list[tuple[Callable[..., Any], list[str]]] = [
        (run_champion, ["rules", "promote", "now"]),
        (set_champion, ["action", "now"]),
        (rollback_champion, ["now"]),
    ]
    for function, named in cases:
        parameters = inspect.signature(function).parameters.values()
        assert [p.name for p in parameters if p.kind is p.KEYWORD_ONLY] == named, function.__name__
        assert all(p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)


# --- who acts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [KeyError, OSError])
def test_a_user_without_a_passwd_entry_acts_as_unknown(
    monkeypatch: pytest.MonkeyPatch, error: type[Exception]
) -> None:
    """getpass.getuser raises KeyError (Python < 3.13) or OSError (3.13+) for such a user."""
    import getpass

    def no_user() -> str:
        raise error("no passwd entry for uid 1234")

    monkeypatch.delenv("GITHUB_ACTOR", raising=False)
    monkeypatch.setattr(getpass, "getuser", no_user)
    assert actor() == "unknown"
    monkeypatch.setenv("GITHUB_ACTOR", "ci-bot")
    assert actor() == "ci-bot"  # CI names its actor without asking the passwd database


def test_a_promotion_by_hand_records_who_and_what_it_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTOR", "alice")
    store = _metadata_store(tmp_path, "m", "v1", "v2")
    first = set_champion(store, "m", "v1", action="promote", now=T0)
    assert first["reason"] == "promote by alice" and first["previous"] is None
    assert first["actor"] == "alice" and first["generation"] == 1
    second = set_champion(store, "m", "v2", action="promote", now=T0)
    assert second["reason"] == "promote by alice (was v1)" and second["previous"] == "v1"
    assert second["promoted_at"] == T0.isoformat() and second["generation"] == 2
    assert history(store, "m") == [first, second]


# --- rollback -----------------------------------------------------------------------------------


def test_the_rollback_target_is_the_newest_earlier_champion() -> None:
    assert rollback_target([]) is None
    assert rollback_target([_record("v1")]) is None
    promoted = [_record("v1"), _record("v2", previous="v1"), _record("v3", previous="v2")]
    assert rollback_target(promoted) == "v2"  # not the oldest


def test_the_rollback_target_does_not_depend_on_how_versions_sort() -> None:
    """Version names are ids, not an order: an earlier champion may sort after the current one."""
    assert rollback_target([_record("b"), _record("a", previous="b")]) == "b"
    assert rollback_target([_record("a"), _record("b", previous="a")]) == "a"


def test_with_every_earlier_champion_rolled_away_from_the_refusal_names_the_current_one(
    tmp_path: Path,
) -> None:
    store = _metadata_store(tmp_path, "m", "v1", "v2")
    set_champion(store, "m", "v1", action="promote", now=T0)
    set_champion(store, "m", "v2", action="promote", now=T0)
    assert rollback_champion(store, "m", now=T0)["version"] == "v1"  # away from v2
    assert rollback_champion(store, "m", "v2", now=T0)["version"] == "v2"  # away from v1, by name
    before = tree_digest(tmp_path)
    with pytest.raises(InputError, match=r"^champion v2 of 'm' has no earlier champion to return to$"):
        rollback_champion(store, "m", now=T0)
    assert tree_digest(tmp_path) == before


# --- races and re-scoring (real models) -----------------------------------------------------------


@pytest.fixture(scope="module")
def classifier(
    tmp_path_factory: pytest.TempPathFactory, chain: Callable[..., dict[str, Path]]
) -> dict[str, Path]:
    """One classifier run on breast_cancer (model, evaluation, test set)."""
    return chain(tmp_path_factory.mktemp("classifier"))


@pytest.fixture(scope="module")
def regressor(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A regressor on the same data, features and label column (the label taken as a number)."""
    base = tmp_path_factory.mktemp("regressor")
    paths = {name: base / name for name in ("dataset", "train", "test", "prepared", "model", "evaluation")}
    run_ingest(
        "builtin://breast_cancer",
        "target",
        "",
        str(paths["dataset"]),
        str(base / "s.json"),
        task="regression",
    )
    run_split(
        str(paths["dataset"]), str(paths["train"]), str(paths["test"]), str(base / "split.json"), seed=42
    )
    run_preprocess(
        "impute_median,standard_scale", str(paths["train"]), str(paths["prepared"]), str(base / "pre")
    )
    run_train(str(paths["prepared"]), str(base / "pre"), str(paths["model"]), estimator="auto", seed=42)
    run_evaluate(str(paths["model"]), str(paths["test"]), str(paths["evaluation"]))
    return paths


def _store(root: Path, run: dict[str, Path], *versions: str) -> str:
    """A store holding ``run``'s model under each of ``versions`` of model ``m``."""
    root.mkdir()
    for version in versions:
        store_model(str(run["model"]), str(run["evaluation"]), str(root), "m", version=version, now=T0)
    return str(root)


def _interloper(monkeypatch: pytest.MonkeyPatch, store: str, races: int) -> list[str]:
    """Before each of the first ``races`` writes of cand's promotion, another run promotes a or b."""
    real = champion_io.record_promotion
    calls: list[str] = []

    def promote_first(backend: Any, record: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        if record["version"] != "cand":  # the interloper's own promotion (by hand)
            return real(backend, record, current)
        calls.append(record["version"])
        if len(calls) <= races:
            set_champion(store, "m", "a" if len(calls) % 2 else "b", action="promote")
        return real(backend, record, current)

    monkeypatch.setattr(champion_io, "record_promotion", promote_first)
    return calls


def test_a_promotion_that_loses_two_races_in_a_row_still_wins_the_third(
    tmp_path: Path, classifier: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path / "store", classifier, "a", "b", "cand")
    calls = _interloper(monkeypatch, store, races=2)
    outcome = run_champion(store, "m", "cand", str(classifier["evaluation"]), str(classifier["test"]), now=T0)
    assert outcome.promote and calls == ["cand"] * 3
    assert [(r["version"], r["previous"]) for r in history(store, "m")] == [
        ("a", None),
        ("b", "a"),
        ("cand", "b"),  # challenged against, and replacing, the champion of the moment
    ]
    challenge = read_challenge(store, "m", "cand")
    assert challenge is not None and challenge["champion"] == "b" and challenge["verdict"] == "promoted"


def test_a_promotion_that_loses_every_race_gives_up_and_says_so(
    tmp_path: Path, classifier: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store(tmp_path / "store", classifier, "a", "b", "cand")
    calls = _interloper(monkeypatch, store, races=1_000)
    with pytest.raises(ChampionMoved, match=r"^the champion of m kept changing; cand was not promoted$"):
        run_champion(store, "m", "cand", str(classifier["evaluation"]), str(classifier["test"]), now=T0)
    records = history(store, "m")
    assert len(calls) > 1 and len(records) == len(calls)  # it retried; each try lost to one interloper
    assert "cand" not in [r["version"] for r in records]
    assert read_champion(open_store(store), "m") == records[-1]
    challenge = read_challenge(store, "m", "cand")
    assert challenge is not None and challenge["champion"] == records[-2]["version"]  # the last it met


def test_a_champion_task_that_gives_up_fails_with_exit_code_1_not_as_bad_input(
    tmp_path: Path,
    classifier: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """README: exit 0 success, 1 failure, 2 bad usage or input. Losing every race is a failure
    (the pipeline task must fail), and not the input's fault (a later run may well win)."""
    from components.champion.__main__ import main
    from components.shared.cli import run_cli

    store = _store(tmp_path / "store", classifier, "a", "b", "cand")
    _interloper(monkeypatch, store, races=1_000)
    argv = ["--store", store, "--name", "m", "--version", "cand"]
    argv += ["--evaluation", str(classifier["evaluation"]), "--test", str(classifier["test"])]
    assert run_cli(lambda: main(argv)) == 1
    captured = capsys.readouterr()
    assert captured.err == "error: the champion of m kept changing; cand was not promoted\n"
    assert captured.out == ""


def test_models_of_different_tasks_are_not_comparable_whichever_is_champion(
    tmp_path: Path, classifier: dict[str, Path], regressor: dict[str, Path]
) -> None:
    for champion, candidate, first, second in [
        (classifier, regressor, "classification", "regression"),
        (regressor, classifier, "regression", "classification"),
    ]:
        root = tmp_path / first
        store = _store(root, champion, "v1")
        store_model(str(candidate["model"]), str(candidate["evaluation"]), store, "m", version="v2", now=T0)
        run_champion(store, "m", "v1", str(champion["evaluation"]), str(champion["test"]), now=T0)
        outcome = run_champion(store, "m", "v2", str(candidate["evaluation"]), str(candidate["test"]), now=T0)
        assert not outcome.promote and not outcome.decisions and outcome.verdict == "not comparable"
        assert outcome.reason.startswith(
            f"not comparable: champion v1 is a {first} model and the candidate a {second} model"
        )
        assert read_champion(open_store(store), "m")["version"] == "v1"  # type: ignore[index]
