"""Monitoring: the N-of-M rule, the cooldown, drift (PSI), window records and bad windows."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from components.champion.io import run_champion
from components.model_storage.io import store_model
from components.monitoring.core import (
    MonitorSettings,
    WindowVerdict,
    decide_retrain,
    floor,
    judge_window,
    retrain_decision,
)
from components.monitoring.io import list_windows, run_monitoring
from components.shared.drift import population_stability, psi, reference_profile
from components.shared.errors import InputError
from components.shared.sources import fetch_source
from tests.conftest import tree_digest

T0 = datetime(2026, 1, 1, 6, tzinfo=UTC)
RULE = MonitorSettings(windows_below=2, window_count=3, cooldown_hours=48)


def _windows(*below: bool) -> list[dict[str, Any]]:
    return [{"as_of": (T0 + timedelta(days=i)).isoformat(), "below": b} for i, b in enumerate(below)]


def _day(i: int) -> datetime:
    return T0 + timedelta(days=i)


@pytest.mark.parametrize(
    ("below", "retrain"),
    [
        ((False, False, False), False),
        ((False, True, False), False),  # N-1 of M
        ((False, True, True), True),  # exactly N of M
        ((True, True, True), True),
        ((True, True, False, False, False), False),  # old declines fall out of the last M
        ((True,), False),  # fewer windows than N
    ],
)
def test_n_of_the_last_m_windows(below: tuple[bool, ...], retrain: bool) -> None:
    decision = decide_retrain(_windows(*below), [], _day(len(below) - 1), RULE)
    assert decision.retrain is retrain and decision.rule_met is retrain
    assert decision.considered == min(len(below), 3)


def test_windows_after_this_one_do_not_count() -> None:
    decision = decide_retrain(_windows(False, True, True), [], _day(0), RULE)
    assert not decision.rule_met and decision.considered == 1


def test_cooldown_holds_until_it_ends_exactly() -> None:
    windows = _windows(True, True, True, True, True)
    started = [{"started_at": _day(1).isoformat()}]
    held = decide_retrain(windows, started, _day(2), RULE)
    assert held.rule_met and not held.retrain and "cooldown until 2026-01-04 06:00" in held.reason
    assert held.cooldown_until == _day(3).isoformat()
    just_before = decide_retrain(windows, started, _day(3) - timedelta(seconds=1), RULE)
    assert not just_before.retrain
    assert decide_retrain(windows, started, _day(3), RULE).retrain  # 48 h later: free again


def test_a_zero_cooldown_never_holds_and_future_triggers_are_ignored() -> None:
    windows = _windows(True, True)
    rule = MonitorSettings(windows_below=2, window_count=2, cooldown_hours=0)
    assert decide_retrain(windows, [{"started_at": _day(1).isoformat()}], _day(1), rule).retrain
    assert decide_retrain(windows, [{"started_at": _day(5).isoformat()}], _day(1), RULE).retrain


def test_floor_is_the_higher_of_threshold_and_champion_minus_tolerance() -> None:
    assert floor(MonitorSettings(threshold=0.0, tolerance=0.05), 0.98) == pytest.approx(0.93)
    assert floor(MonitorSettings(threshold=0.95, tolerance=0.05), 0.98) == 0.95
    assert floor(MonitorSettings(threshold=0.5, tolerance=0.05), None) == 0.5


def test_a_window_below_the_champion_by_more_than_the_tolerance_is_below() -> None:
    rule = MonitorSettings(metric="accuracy", tolerance=0.05)
    verdict = judge_window(rule, {"accuracy": 0.90, "macro_f1": 0.5}, {"accuracy": 0.98})
    assert verdict == WindowVerdict(
        metric="accuracy",
        value=0.90,
        champion_value=0.98,
        floor=pytest.approx(0.93),
        higher_is_better=True,
        below=True,
    )
    assert not judge_window(rule, {"accuracy": 0.95}, {"accuracy": 0.98}).below


def test_an_error_metric_is_judged_against_a_ceiling() -> None:
    rule = MonitorSettings(metric="rmse", threshold=0.0, tolerance=0.1)
    verdict = judge_window(rule, {"rmse": 1.25}, {"rmse": 1.0})
    assert verdict.floor == pytest.approx(1.1) and verdict.below and not verdict.higher_is_better
    assert not judge_window(rule, {"rmse": 1.05}, {"rmse": 1.0}).below
    unbounded = judge_window(rule, {"rmse": 9.0}, {})  # neither a threshold nor the champion's value
    assert unbounded.floor == float("inf") and unbounded.champion_value is None and not unbounded.below


def test_a_window_verdict_is_the_window_records_fields_in_order() -> None:
    verdict = judge_window(MonitorSettings(metric="accuracy", threshold=0.5), {"accuracy": 0.4}, {})
    assert verdict.to_dict() == {
        "metric": "accuracy",
        "value": 0.4,
        "champion_value": None,
        "floor": 0.5,
        "higher_is_better": True,
        "below": True,
    }
    assert list(verdict.to_dict()) == [
        "metric",
        "value",
        "champion_value",
        "floor",
        "higher_is_better",
        "below",
    ]


def test_a_metric_the_window_does_not_define_is_named() -> None:
    with pytest.raises(InputError, match=r"metric 'roc_auc' is not defined .*use one of accuracy, macro_f1"):
        judge_window(MonitorSettings(metric="roc_auc"), {"macro_f1": 0.5, "accuracy": 0.6}, {})


def test_the_decision_counts_only_the_current_champions_windows_and_this_one() -> None:
    # The previous champion's decline, then this window of the new champion.
    recorded = [{**w, "champion_version": "v1"} for w in _windows(True, True)]
    mine = {"as_of": _day(2).isoformat(), "below": True, "champion_version": "v2"}
    decision = retrain_decision(mine, recorded, [], _day(2), RULE)
    assert decision.below == 1 and decision.considered == 1 and not decision.retrain
    recorded.append(
        {"as_of": _day(1).isoformat(), "below": True, "champion_version": "v2", "input_fingerprint": "x"}
    )
    assert retrain_decision(mine, recorded, [], _day(2), RULE).retrain  # 2 of v2's last 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "log_loss"}, "cannot be watched"),
        ({"windows_below": 4, "window_count": 3}, "windows_below <= window_count"),
        ({"windows_below": 0}, "windows_below"),
        ({"threshold": 1.5}, "threshold"),
        ({"tolerance": -0.1}, "tolerance"),
        ({"cooldown_hours": -1}, "cooldown_hours"),
    ],
)
def test_bad_settings_are_named(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        MonitorSettings(**kwargs)


def test_psi_is_zero_for_the_same_distribution_and_large_for_a_shift() -> None:
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], size=5000)})
    profile = reference_profile(train, ["x"], ["c"])
    same = pd.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], size=5000)})
    shifted = pd.DataFrame({"x": rng.normal(loc=1.0, size=5000), "c": rng.choice(["a", "b", "z"], size=5000)})
    stable = population_stability(profile, same)
    moved = population_stability(profile, shifted)
    assert stable["x"] < 0.02 and stable["c"] < 0.01
    assert moved["x"] > 0.25 and moved["c"] > 0.25  # an unseen category lands in the "other" bin
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0


def test_numeric_profiles_use_the_training_deciles() -> None:
    values = np.arange(1000, dtype=float)
    profile = reference_profile(pd.DataFrame({"x": values}), ["x"], [])["x"]
    assert profile["edges"] == pytest.approx(list(np.quantile(values, np.arange(1, 10) / 10)))
    assert profile["expected"] == pytest.approx([0.1] * 10)


def test_a_wider_spread_with_the_same_centre_is_drift() -> None:
    # Deciles see the tails move; a split at the median alone would see nothing.
    rng = np.random.default_rng(1)
    profile = reference_profile(pd.DataFrame({"x": rng.normal(size=20_000)}), ["x"], [])
    wider = population_stability(profile, pd.DataFrame({"x": rng.normal(scale=2.0, size=20_000)}))
    assert wider["x"] > 0.25


def test_psi_is_the_sum_of_share_change_times_log_ratio() -> None:
    expected = (0.25 - 0.5) * np.log(0.25 / 0.5) + (0.75 - 0.5) * np.log(0.75 / 0.5)
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected)


def test_a_window_entirely_below_the_first_decile_is_binned_in_full() -> None:
    profile = reference_profile(pd.DataFrame({"x": np.arange(100.0)}), ["x"], [])
    assert len(profile["x"]["expected"]) == len(profile["x"]["edges"]) + 1 == 10
    low = population_stability(profile, pd.DataFrame({"x": [-5.0] * 50}))
    expected_psi = (1 - 0.1) * np.log(1 / 0.1) + 9 * (1e-4 - 0.1) * np.log(1e-4 / 0.1)
    assert low["x"] == round(expected_psi, 6)


def test_columns_without_numbers_are_not_profiled_and_do_not_stop_the_others() -> None:
    frame = pd.DataFrame({"empty": [None, "n/a", None], "single": [None, None, 3.0], "x": [1.0, 2.0, 3.0]})
    profile = reference_profile(frame, ["empty", "single", "x"], [])
    assert sorted(profile) == ["single", "x"]  # one number is enough
    assert profile["single"] == {"kind": "numeric", "edges": [3.0], "expected": [0.0, 1.0]}


def test_a_feature_missing_from_the_window_is_skipped_and_the_rest_measured() -> None:
    profile = reference_profile(pd.DataFrame({"a": np.arange(50.0), "b": np.arange(50.0)}), ["a", "b"], [])
    assert list(population_stability(profile, pd.DataFrame({"b": np.arange(50.0)}))) == ["b"]


def test_only_the_fifty_most_frequent_categories_are_kept() -> None:
    values = [f"c{i:02d}" for i in range(60) for _ in range(60 - i)]  # c00 most frequent
    profile = reference_profile(pd.DataFrame({"c": values}), [], ["c"])["c"]
    assert profile["categories"] == [f"c{i:02d}" for i in range(50)]
    assert len(profile["expected"]) == 51 and profile["expected"][-1] == pytest.approx(55 / len(values))


def test_a_category_absent_from_the_window_has_a_share_of_zero() -> None:
    profile = reference_profile(pd.DataFrame({"c": ["a", "b"] * 10}), [], ["c"])
    only_a = population_stability(profile, pd.DataFrame({"c": ["a"] * 10}))
    expected_psi = (1 - 0.5) * np.log(1 / 0.5) + (1e-4 - 0.5) * np.log(1e-4 / 0.5)  # "other" 0 in both
    assert only_a["c"] == round(expected_psi, 6)


def test_a_window_of_one_row_or_none_gives_finite_shares() -> None:
    profile = reference_profile(pd.DataFrame({"x": np.arange(100.0), "c": ["a", "b"] * 50}), ["x"], ["c"])
    one = population_stability(profile, pd.DataFrame({"x": [-5.0], "c": ["a"]}))
    assert one["x"] == round((1 - 0.1) * np.log(1 / 0.1) + 9 * (1e-4 - 0.1) * np.log(1e-4 / 0.1), 6)
    assert one["c"] == round((1 - 0.5) * np.log(1 / 0.5) + (1e-4 - 0.5) * np.log(1e-4 / 0.5), 6)
    none = population_stability(
        profile, pd.DataFrame({"x": pd.Series([], dtype=float), "c": pd.Series([], dtype=str)})
    )
    assert all(np.isfinite(v) for v in none.values())  # every bin empty: each share 0, not 0/0


def test_psi_refuses_distributions_of_different_bins() -> None:
    with pytest.raises(ValueError):
        psi([0.5, 0.5], [1.0])


@pytest.fixture
def champion_store(tmp_path: Path, chain: Callable[..., dict[str, Path]]) -> str:
    paths = chain(tmp_path / "run")
    store = tmp_path / "store"
    store.mkdir()
    store_model(str(paths["model"]), str(paths["evaluation"]), str(store), "m", version="v1", now=T0)
    run_champion(str(store), "m", "v1", str(paths["evaluation"]), str(paths["test"]), now=T0)
    return str(store)


def _window_file(tmp_path: Path, window: int, name: str = "w.csv", transform: Any = None) -> str:
    frame = pd.read_csv(
        __import__("io").BytesIO(fetch_source(f"builtin://breast_cancer_drift?window={window}"))
    )
    if transform is not None:
        frame = transform(frame)
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def test_windows_are_recorded_and_decline_fires_the_rule(champion_store: str) -> None:
    rule = MonitorSettings(windows_below=2, window_count=3, cooldown_hours=72)
    decisions = []
    for day, window in enumerate((0, 5, 6)):
        record = run_monitoring(
            champion_store,
            "m",
            f"builtin://breast_cancer_drift?window={window}",
            rule,
            as_of=_day(day).isoformat(),
        )
        decisions.append(record["decision"]["retrain"])
    records = list_windows(champion_store, "m")
    assert [r["source"][-1] for r in records] == ["0", "5", "6"]
    assert [r["below"] for r in records] == [False, True, True]
    assert decisions == [False, False, True]
    assert records[0]["psi_max"] < 0.2 < records[2]["psi_max"]  # drift measured without labels
    assert records[0]["champion_version"] == "v1" and records[0]["rows"] == 341
    assert set(records[0]["psi"]) == set(
        json.loads(Path(champion_store, "models/m/v1/metadata.json").read_text())["features"]
    )


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        (lambda f: f.iloc[0:0], "has no rows"),
        (lambda f: f.drop(columns="target"), "no label column 'target'"),
        (
            lambda f: f.assign(target=f["target"].where(f.index > 0, 7)),
            "label\\(s\\) '7' the champion never saw",
        ),
        (lambda f: f.drop(columns="mean_radius"), "lacks feature column 'mean_radius'"),
        (lambda f: f.assign(target=np.nan), "no labeled rows"),
    ],
)
def test_bad_windows_are_refused_and_nothing_is_recorded(
    champion_store: str, tmp_path: Path, transform: Any, message: str
) -> None:
    source = _window_file(tmp_path, 0, transform=transform)
    before = tree_digest(Path(champion_store))
    with pytest.raises(InputError, match=message):
        run_monitoring(champion_store, "m", source, MonitorSettings())
    assert tree_digest(Path(champion_store)) == before


def test_no_champion_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="has no champion"):
        run_monitoring(str(tmp_path), "m", "builtin://breast_cancer", MonitorSettings())


def test_a_bad_window_time_is_refused(champion_store: str) -> None:
    with pytest.raises(InputError, match="not an ISO 8601 time"):
        run_monitoring(champion_store, "m", "builtin://breast_cancer", MonitorSettings(), as_of="yesterday")


def test_drifting_source_needs_a_window_number() -> None:
    with pytest.raises(InputError, match=r"needs \?window="):
        fetch_source("builtin://breast_cancer_drift")
    with pytest.raises(InputError, match="takes no query"):
        fetch_source("builtin://breast_cancer?window=1")
    assert fetch_source("builtin://breast_cancer_drift?window=1") == fetch_source(
        "builtin://breast_cancer_drift?window=1"
    )


def test_a_window_measured_twice_counts_once() -> None:
    once = _windows(False, True)
    twice = [*once, {**once[1]}]  # same time, same (missing) fingerprint
    assert decide_retrain(twice, [], _day(1), RULE).below == 1


def test_times_with_offsets_are_compared_and_keyed_in_utc(champion_store: str) -> None:
    record = run_monitoring(
        champion_store,
        "m",
        "builtin://breast_cancer_drift?window=0",
        MonitorSettings(),
        as_of="2026-01-10T06:00:00+05:00",
    )
    assert record["as_of"] == "2026-01-10T01:00:00+00:00"
    (key,) = (p.name for p in Path(champion_store, "metrics/monitoring/m/windows").glob("*.json"))
    assert key.startswith("20260110T010000")


def test_a_partly_labelled_window_is_scored_on_its_labelled_rows(champion_store: str, tmp_path: Path) -> None:
    source = _window_file(tmp_path, 0, transform=lambda f: f.assign(target=f["target"].where(f.index > 0)))
    record = run_monitoring(champion_store, "m", source, MonitorSettings())
    assert record["rows"] == 340 and record["value"] > 0.9


def test_an_undefined_metric_is_a_clear_error(champion_store: str, tmp_path: Path) -> None:
    source = _window_file(tmp_path, 0, transform=lambda f: f[f["target"] == 1])  # one class: no ROC-AUC
    with pytest.raises(InputError, match="metric 'roc_auc' is not defined for this window"):
        run_monitoring(champion_store, "m", source, MonitorSettings(metric="roc_auc"))


def test_only_the_current_champions_windows_count(
    champion_store: str, tmp_path: Path, chain: Callable[..., dict[str, Path]]
) -> None:
    rule = MonitorSettings(windows_below=2, window_count=3, cooldown_hours=0)
    run_monitoring(
        champion_store, "m", "builtin://breast_cancer_drift?window=6", rule, as_of=_day(0).isoformat()
    )
    paths = chain(tmp_path / "second", seed=7)
    store_model(str(paths["model"]), str(paths["evaluation"]), champion_store, "m", version="v2", now=T0)
    from components.champion.io import set_champion

    set_champion(champion_store, "m", "v2", action="promote")
    record = run_monitoring(
        champion_store, "m", "builtin://breast_cancer_drift?window=6", rule, as_of=_day(1).isoformat()
    )
    assert record["below"] and record["decision"]["below"] == 1  # v1's declining window is not v2's
    assert not record["decision"]["retrain"]
