"""Champion: promotion only without regression against the re-scored champion; history; rollback."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from components.champion.core import (
    DEFAULT_RULES,
    Challenge,
    challenge,
    parse_rules,
    promotion_record,
    rules_for,
)
from components.champion.io import (
    ChampionMoved,
    history,
    read_challenge,
    record_promotion,
    rollback_champion,
    run_champion,
    set_champion,
)
from components.evaluate.core import ID, SCORE_PREFIX, Y_PRED, Y_TRUE
from components.model_storage.io import store_model
from components.shared.errors import InputError
from components.shared.models import read_champion, resolve_model
from components.shared.store import open_store
from tests.conftest import REPO, tree_digest

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _record(truth: list[int], predicted: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame({ID: range(len(truth)), Y_TRUE: truth, Y_PRED: predicted})
    frame[f"{SCORE_PREFIX}0"] = [1.0 - p for p in predicted]
    frame[f"{SCORE_PREFIX}1"] = [float(p) for p in predicted]
    return frame


def test_default_rules_are_the_gates_gated_metrics() -> None:
    """One source of truth in practice: the champion rule equals [tool.kfops.gate]'s gated metrics."""
    gate = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["kfops"]["gate"]
    gated = [
        {"metric": name, "tolerance": rule.get("tolerance", 0.0), "alpha": rule.get("alpha", gate["alpha"])}
        for name, rule in gate["metrics"].items()
        if rule.get("gate")
    ]
    assert gated == list(DEFAULT_RULES)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope", "not JSON"),
        ("[]", "non-empty JSON list"),
        ('[{"metric": "speed"}]', "needs a metric"),
        ('[{"metric": "accuracy", "tolerance": "x"}]', "tolerance must be a number"),
        ('[{"metric": "accuracy", "alpha": 0.7}]', r"alpha must be in \(0, 0.5\)"),
        ('[{"metric": "accuracy", "tolerance": -0.1}]', "tolerance must be"),
        ('[{"metric": "accuracy", "tolerance": 1.5}]', r"tolerance must be >= 0 and < 1 for accuracy"),
        ('[{"metric": "roc_auc", "tolerance": NaN}]', "tolerance must be finite"),
        ('[{"metric": "log_loss", "tolerance": Infinity}]', "tolerance must be finite"),
        ('[{"metric": "accuracy", "tolerence": 0.1}]', "unknown key 'tolerence'"),
    ],
)
def test_bad_rules_are_named(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_rules(text)


def test_empty_rules_mean_the_default() -> None:
    accuracy, rmse = parse_rules("")
    assert (accuracy.metric, accuracy.tolerance, accuracy.alpha) == ("accuracy", 0.0, 0.05)
    assert (rmse.metric, rmse.tolerance, rmse.alpha) == ("rmse", 0.0, 0.05)


def test_a_clearly_worse_candidate_is_refused_and_an_equal_one_promoted() -> None:
    truth = [0, 1] * 100
    champion = _record(truth, truth)  # always right
    worse = _record(truth, [1 - t if i % 4 == 0 else t for i, t in enumerate(truth)])  # 25% wrong
    refused = challenge(champion, worse, ["0", "1"], ["0", "1"], parse_rules(""))
    assert not refused.promote and "accuracy regressed" in refused.reason
    assert refused.decisions[0].regressed
    equal = challenge(
        champion, champion.sample(frac=1, random_state=0), ["0", "1"], ["0", "1"], parse_rules("")
    )
    assert equal.promote and not equal.decisions[0].regressed  # row order does not matter (joined by id)


def test_records_of_different_examples_are_refused() -> None:
    truth = [0, 1] * 10
    other = _record(truth, truth)
    other[ID] = other[ID] + 100
    with pytest.raises(InputError, match="different examples"):
        challenge(_record(truth, truth), other, ["0", "1"], ["0", "1"], parse_rules(""))


def test_records_with_the_same_ids_but_other_true_labels_are_refused() -> None:
    # Same ids, one relabelled example: not the same evaluation set, so no paired test.
    truth = [0, 1] * 10
    relabelled = [1 - truth[0], *truth[1:]]
    with pytest.raises(InputError, match="different examples"):
        challenge(_record(truth, truth), _record(relabelled, truth), ["0", "1"], ["0", "1"], parse_rules(""))


def test_score_rules_need_the_same_classes() -> None:
    truth = [0, 1] * 10
    with pytest.raises(InputError, match="champion classes"):
        challenge(
            _record(truth, truth),
            _record(truth, truth),
            ["0", "1"],
            ["0", "2"],
            parse_rules('[{"metric": "roc_auc"}]'),
        )


@dataclass
class Stored:
    """A store holding two equally trained versions of model ``m``, neither champion yet."""

    store: str
    runs: dict[str, dict[str, Path]]  # version -> the run_chain paths it came from

    def challenge(self, version: str, *, now: datetime = T0) -> Challenge:
        """Run the champion step for ``version`` with its own evaluation and test set."""
        run = self.runs[version]
        return run_champion(self.store, "m", version, str(run["evaluation"]), str(run["test"]), now=now)


@pytest.fixture
def store_with_models(tmp_path: Path, chain: Callable[..., dict[str, Path]]) -> Stored:
    store = tmp_path / "store"
    store.mkdir()
    runs = {"v1-good": chain(tmp_path / "good"), "v2-same": chain(tmp_path / "bad", seed=42)}
    for version, run in runs.items():
        store_model(str(run["model"]), str(run["evaluation"]), str(store), "m", version=version, now=T0)
    return Stored(str(store), runs)


def test_first_model_becomes_champion_and_records_why(store_with_models: Stored) -> None:
    s = store_with_models
    outcome = s.challenge("v1-good")
    assert outcome.promote and outcome.reason.startswith("first champion")
    champion = read_champion(open_store(s.store), "m")
    assert champion is not None and champion["version"] == "v1-good" and champion["previous"] is None
    assert champion["uri"].endswith("/models/m/v1-good/") and champion["metrics"]["accuracy"] > 0.9
    (entry,) = history(s.store, "m")
    assert entry == champion  # the history entry is written with the same content, first
    assert resolve_model(open_store(s.store), "m")["version"] == "v1-good"
    challenge_record = read_challenge(s.store, "m", "v1-good")
    assert challenge_record is not None and challenge_record["promote"] is True


def test_an_identical_model_is_promoted_and_a_crippled_one_refused(
    store_with_models: Stored, tmp_path: Path, chain: Callable[..., dict[str, Path]]
) -> None:
    s = store_with_models
    store = s.store
    s.challenge("v1-good", now=T0)
    same = s.challenge("v2-same", now=T0)
    assert same.promote  # same data and seed: the champion re-scored equals the candidate
    assert read_champion(open_store(store), "m")["version"] == "v2-same"  # type: ignore[index]

    crippled = chain(tmp_path / "crippled", hyperparameters='{"C": 1e-5}')  # all but ignores the data
    store_model(str(crippled["model"]), str(crippled["evaluation"]), store, "m", version="v3-bad", now=T0)
    before = json.loads(open_store(store).read("models/m/champion.json"))
    refused = run_champion(store, "m", "v3-bad", str(crippled["evaluation"]), str(crippled["test"]), now=T0)
    assert not refused.promote and "accuracy regressed" in refused.reason
    assert json.loads(open_store(store).read("models/m/champion.json")) == before
    assert [e["version"] for e in history(store, "m")] == ["v1-good", "v2-same"]
    record = read_challenge(store, "m", "v3-bad")
    assert record is not None and record["promote"] is False and record["champion"] == "v2-same"


def test_a_winner_not_asked_to_promote_is_recorded_but_the_champion_stays(
    store_with_models: Stored,
) -> None:
    s = store_with_models
    backend = open_store(s.store)
    run = s.runs["v1-good"]
    unasked = run_champion(s.store, "m", "v1-good", str(run["evaluation"]), str(run["test"]), promote=False)
    assert not unasked.promote and unasked.verdict == "not promoted"
    assert "would be promoted (first champion" in unasked.reason and "--promote" in unasked.reason
    assert read_champion(backend, "m") is None and history(s.store, "m") == []
    s.challenge("v1-good")
    pointer = backend.read("models/m/champion.json")
    run = s.runs["v2-same"]
    unasked = run_champion(s.store, "m", "v2-same", str(run["evaluation"]), str(run["test"]), promote=False)
    assert unasked.verdict == "not promoted" and unasked.decisions  # the deciding metrics are kept
    assert backend.read("models/m/champion.json") == pointer
    record = read_challenge(s.store, "m", "v2-same")
    assert record is not None and record["verdict"] == "not promoted" and record["champion"] == "v1-good"
    champion = read_champion(backend, "m")
    assert champion is not None and champion["actor"] and "run_id" in champion  # who, from which run


def test_rollback_restores_the_previous_champion_and_is_recorded(
    store_with_models: Stored,
) -> None:
    s = store_with_models
    store = s.store
    s.challenge("v1-good", now=T0)
    s.challenge("v2-same", now=T0.replace(hour=1))
    record = rollback_champion(store, "m", now=T0.replace(hour=2))
    assert (
        record["version"] == "v1-good" and record["action"] == "rollback" and record["previous"] == "v2-same"
    )
    assert read_champion(open_store(store), "m")["version"] == "v1-good"  # type: ignore[index]
    assert [e["action"] for e in history(store, "m")] == ["promote", "promote", "rollback"]


@pytest.mark.parametrize(
    ("to", "message"), [("v1-good", "already the champion"), ("v9", "has no version 'v9'")]
)
def test_rollback_errors_change_nothing(store_with_models: Stored, to: str, message: str) -> None:
    s = store_with_models
    store = s.store
    with pytest.raises(InputError, match="has no champion"):
        rollback_champion(store, "m")
    s.challenge("v1-good", now=T0)
    before = tree_digest(Path(store))
    with pytest.raises(InputError, match=message):
        rollback_champion(store, "m", to)
    with pytest.raises(InputError, match="no earlier champion"):
        rollback_champion(store, "m")
    assert tree_digest(Path(store)) == before


def test_an_unknown_candidate_version_is_refused_before_anything_is_written(
    store_with_models: Stored,
) -> None:
    s = store_with_models
    good = s.runs["v1-good"]
    before = tree_digest(Path(s.store))
    with pytest.raises(InputError, match="has no version 'nope'"):
        run_champion(s.store, "m", "nope", str(good["evaluation"]), str(good["test"]))
    assert tree_digest(Path(s.store)) == before


def test_a_second_rollback_never_brings_back_the_version_rolled_away_from(
    store_with_models: Stored,
) -> None:
    s = store_with_models
    store = s.store
    s.challenge("v1-good", now=T0)
    s.challenge("v2-same", now=T0)
    assert rollback_champion(store, "m")["version"] == "v1-good"
    with pytest.raises(InputError, match="no earlier champion"):
        rollback_champion(store, "m")  # v2-same was rolled away from; v1-good is current
    assert [r["generation"] for r in history(store, "m")] == [1, 2, 3]


def test_a_promotion_that_lost_a_race_is_refused_and_history_stays_consistent(
    store_with_models: Stored,
) -> None:
    s = store_with_models
    store = s.store
    s.challenge("v1-good", now=T0)
    stale = read_champion(open_store(store), "m")
    set_champion(store, "m", "v2-same", action="promote")  # someone else moves first
    with pytest.raises(ChampionMoved, match="changed meanwhile"):
        record_promotion(open_store(store), {"model_name": "m", "version": "v1-good"}, stale)
    assert [r["version"] for r in history(store, "m")] == ["v1-good", "v2-same"]
    assert read_champion(open_store(store), "m")["version"] == "v2-same"  # type: ignore[index]


def test_a_run_that_loses_the_race_challenges_the_new_champion_before_promoting(
    store_with_models: Stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through run_champion's retry loop: someone promotes v2-same between v1-good's
    challenge (against no champion) and its promotion; v1-good is then challenged
    against v2-same, and only that verdict decides."""
    from components.champion import io as champion_io

    s = store_with_models
    real = champion_io.record_promotion
    calls = []

    def interloper_first(
        store: Any, record: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        calls.append(record["version"])
        if len(calls) == 1:  # another run promotes v2-same just before v1-good's write
            set_champion(s.store, "m", "v2-same", action="promote")
        return real(store, record, current)

    monkeypatch.setattr(champion_io, "record_promotion", interloper_first)
    outcome = s.challenge("v1-good")
    challenge = read_challenge(s.store, "m", "v1-good")
    assert challenge is not None and challenge["champion"] == "v2-same"  # re-challenged the winner
    versions = [r["version"] for r in history(s.store, "m")]
    assert versions == (["v2-same", "v1-good"] if outcome.promote else ["v2-same"])
    assert calls[0] == "v1-good" and calls.count("v1-good") == (2 if outcome.promote else 1)


def test_a_champion_that_cannot_score_the_candidates_data_is_kept_and_says_why(
    tmp_path: Path, chain: Callable[..., dict[str, Path]]
) -> None:
    from components.ingest.io import write_synthetic

    synthetic = tmp_path / "synthetic.csv"
    write_synthetic(300, str(synthetic), features=5, seed=1)
    other = chain(tmp_path / "other", source=str(synthetic))  # features x00..x04, label "target"
    cancer = chain(tmp_path / "cancer")
    store = tmp_path / "store"
    store.mkdir()
    store_model(str(other["model"]), str(other["evaluation"]), str(store), "m", version="v1", now=T0)
    store_model(str(cancer["model"]), str(cancer["evaluation"]), str(store), "m", version="v2", now=T0)
    run_champion(str(store), "m", "v1", str(other["evaluation"]), str(other["test"]), now=T0)
    outcome = run_champion(str(store), "m", "v2", str(cancer["evaluation"]), str(cancer["test"]), now=T0)
    assert not outcome.promote and outcome.reason.startswith("not comparable")
    assert outcome.verdict == "not comparable"
    assert read_champion(open_store(str(store)), "m")["version"] == "v1"  # type: ignore[index]
    assert set_champion(str(store), "m", "v2", action="promote")["version"] == "v2"  # by hand, recorded


def test_two_unknown_keys_name_the_first_in_order() -> None:
    with pytest.raises(InputError, match=r"unknown key 'alfa'$"):
        parse_rules('[{"metric": "accuracy", "zeta": 1, "alfa": 2}]')


def test_rules_apply_to_their_task_and_a_task_without_rules_gets_its_default() -> None:
    both = parse_rules('[{"metric": "accuracy", "tolerance": 0.01}, {"metric": "mae", "tolerance": 0.5}]')
    assert [r.metric for r in rules_for(both, "classification")] == ["accuracy"]
    assert [r.metric for r in rules_for(both, "regression")] == ["mae"]
    only_accuracy = parse_rules('[{"metric": "macro_f1"}]')
    assert [r.metric for r in rules_for(only_accuracy, "regression")] == ["rmse"]  # the default's
    assert [r.metric for r in rules_for(parse_rules('[{"metric": "mae"}]'), "classification")] == ["accuracy"]


def test_a_regressor_is_challenged_on_errors_not_labels() -> None:
    rng = np.random.default_rng(3)
    truth = rng.normal(size=400)
    champion = pd.DataFrame({ID: range(400), Y_TRUE: truth, Y_PRED: truth + rng.normal(scale=0.1, size=400)})
    worse = champion.assign(**{Y_PRED: truth + rng.normal(scale=0.5, size=400)})
    refused = challenge(champion, worse, [], [], parse_rules(""), task="regression")
    assert not refused.promote and refused.reason.startswith("rmse regressed")
    kept = challenge(champion, champion, [], [], parse_rules(""), task="regression")
    assert kept.promote and [d.metric for d in kept.decisions] == ["rmse"]


def test_score_rules_need_the_same_classes_in_either_order() -> None:
    truth = [0, 1] * 10
    with pytest.raises(InputError, match="champion classes"):
        challenge(
            _record(truth, truth),
            _record(truth, truth),
            ["0", "2"],
            ["0", "1"],
            parse_rules('[{"metric": "roc_auc"}]'),
        )


def test_the_first_regressed_rule_is_the_reason() -> None:
    truth = [0, 1] * 100
    worse = _record(truth, [1 - t if i % 3 == 0 else t for i, t in enumerate(truth)])
    rules = parse_rules('[{"metric": "macro_f1"}, {"metric": "accuracy"}]')
    refused = challenge(_record(truth, truth), worse, ["0", "1"], ["0", "1"], rules)
    assert [d.regressed for d in refused.decisions] == [True, True]
    assert refused.reason.startswith("macro_f1 regressed")


def test_a_verdict_follows_the_decision_unless_given() -> None:
    assert Challenge(True, "r").verdict == "promoted" and Challenge(False, "r").verdict == "kept"
    assert Challenge(False, "r", verdict="not comparable").verdict == "not comparable"
    with pytest.raises(AttributeError):
        Challenge(True, "r").promote = False  # type: ignore[misc]  # outcomes are facts, not state


def test_a_promotion_record_keeps_the_decisions_it_was_given() -> None:
    common = dict(
        model_name="m",
        version="v",
        uri="u",
        metrics={},
        previous=None,
        action="promote",
        reason="r",
        actor="a",
        at="t",
    )
    assert promotion_record(**common, decisions=[{"metric": "accuracy"}])["decisions"] == [
        {"metric": "accuracy"}
    ]
    assert promotion_record(**common)["decisions"] == []
