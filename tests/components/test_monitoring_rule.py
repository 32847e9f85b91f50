"""The monitoring rule's settings, floors and edges: what a user configures and sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from components.monitoring.core import MonitorSettings, decide_retrain, floor, is_below, resolve_metric
from components.shared.errors import InputError

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_the_pipelines_defaults_are_the_rules_defaults() -> None:
    """The monitoring pipeline shows its defaults in the KFP UI; they must be the rule's own."""
    from pipelines.monitoring import monitoring

    inputs = monitoring.component_spec.inputs
    rule = MonitorSettings()
    for name in ("metric", "threshold", "tolerance", "windows_below", "window_count", "cooldown_hours"):
        assert inputs[name].default == getattr(rule, name), name


@pytest.mark.parametrize("metric", ["aaa", "Accuracy", "f1", "zzz"])
def test_a_metric_that_cannot_be_watched_is_refused_whatever_its_spelling(metric: str) -> None:
    with pytest.raises(InputError, match=f"metric '{metric}' cannot be watched"):
        MonitorSettings(metric=metric)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"metric": "accuracy", "threshold": 1.5}, r"threshold must be in \[0, 1\]"),
        ({"metric": "auto", "tolerance": -0.1}, r"threshold must be in \[0, 1\]"),
        ({"metric": "rmse", "threshold": -1.0}, "threshold and tolerance must be >= 0"),
        ({"metric": "mae", "tolerance": -0.1}, "threshold and tolerance must be >= 0"),
    ],
)
def test_bad_limits_are_named_in_the_metrics_own_terms(settings: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        MonitorSettings(**settings)


def test_an_unbounded_metric_may_have_a_threshold_above_one() -> None:
    assert MonitorSettings(metric="rmse", threshold=3.5).threshold == 3.5


@pytest.mark.parametrize(
    ("metric", "task", "offered"),
    [("accuracy", "regression", "r2, rmse, mae"), ("rmse", "classification", "accuracy, macro_f1, roc_auc")],
)
def test_a_metric_of_the_other_task_is_refused_offering_the_fitting_ones(
    metric: str, task: str, offered: str
) -> None:
    with pytest.raises(InputError, match=f"does not apply to a {task} model; use auto or one of {offered}$"):
        resolve_metric(MonitorSettings(metric=metric), task)


def test_a_ceiling_comes_from_a_threshold_the_champion_or_neither() -> None:
    rmse = MonitorSettings(metric="rmse", threshold=0.0, tolerance=0.05)
    assert floor(rmse, None) == float("inf")  # threshold 0 disables the absolute ceiling
    assert floor(rmse, 0.25) == pytest.approx(0.30)
    capped = MonitorSettings(metric="rmse", threshold=0.5, tolerance=0.05)
    assert floor(capped, None) == 0.5
    assert floor(capped, 0.25) == pytest.approx(0.30)  # the lower of the two
    assert floor(capped, 0.75) == 0.5


@pytest.mark.parametrize(("metric", "limit"), [("accuracy", 0.75), ("rmse", 0.25)])
def test_a_window_exactly_at_its_limit_is_not_below(metric: str, limit: float) -> None:
    settings = MonitorSettings(metric=metric)
    assert not is_below(settings, limit, limit)
    worse = limit - 0.125 if metric == "accuracy" else limit + 0.125
    better = limit + 0.125 if metric == "accuracy" else limit - 0.125
    assert is_below(settings, worse, limit) and not is_below(settings, better, limit)


def test_a_window_at_the_decision_time_counts_and_a_later_one_does_not() -> None:
    rule = MonitorSettings(windows_below=2, window_count=3, cooldown_hours=0)
    windows = [
        {"as_of": (T0 - timedelta(days=1)).isoformat(), "below": True},
        {"as_of": T0.isoformat(), "below": True},
        {"as_of": (T0 + timedelta(seconds=1)).isoformat(), "below": True},
    ]
    decision = decide_retrain(windows, [], T0, rule)
    assert decision.considered == 2 and decision.below == 2 and decision.retrain


def test_each_watched_metric_points_the_way_the_gate_says() -> None:
    """Monitoring and the gate judge the same metrics; their directions come from two tables."""
    from components.monitoring.core import WATCHED_METRICS, higher_is_better
    from components.shared.gate_stats.metrics import METRICS

    for metric in WATCHED_METRICS:
        assert higher_is_better(metric) is METRICS[metric].higher_is_better, metric


def test_the_limits_include_their_ends() -> None:
    """A floor of 1 (every window must be perfect), no tolerance and "1 of the last M" are allowed."""
    assert MonitorSettings(metric="accuracy", threshold=1.0).threshold == 1.0
    assert MonitorSettings(tolerance=0.0).tolerance == 0.0
    assert MonitorSettings(windows_below=1, window_count=3).windows_below == 1
    with pytest.raises(InputError, match="need 1 <= windows_below <= window_count, got 0 of 3"):
        MonitorSettings(windows_below=0, window_count=3)


def test_a_window_verdict_cannot_be_changed_after_it_was_judged() -> None:
    import dataclasses

    from components.monitoring.core import WindowVerdict

    verdict = object.__new__(WindowVerdict)
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.below = True  # type: ignore[misc]


def test_settings_cannot_be_changed_after_they_were_checked() -> None:
    """The checks run when the settings are made; an edit afterwards would skip them."""
    import dataclasses

    rule = MonitorSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.windows_below = 0  # type: ignore[misc]


def test_a_retrain_decision_cannot_be_changed_after_it_was_made() -> None:
    """The decision is recorded and acted on; nothing may edit it in between."""
    import dataclasses

    decision = decide_retrain([{"as_of": T0.isoformat(), "below": True}], [], T0, MonitorSettings())
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.retrain = True  # type: ignore[misc]


def test_a_window_measured_again_after_it_started_a_retraining_does_not_start_another() -> None:
    """A trigger's ``started_at`` is its window's time, so a re-run of that window (a retried
    monitoring run) sees a retraining that started at exactly ``as_of``: it is cooling."""
    rule = MonitorSettings(windows_below=1, window_count=1, cooldown_hours=24)
    window = [{"as_of": T0.isoformat(), "below": True}]
    assert decide_retrain(window, [], T0, rule).retrain
    again = decide_retrain(window, [{"started_at": T0.isoformat()}], T0, rule)
    assert not again.retrain and again.rule_met
    assert again.cooldown_until == (T0 + timedelta(hours=24)).isoformat()


def test_without_a_champion_value_the_floor_is_the_threshold_alone() -> None:
    for threshold in (0.0, 0.3):
        rule = MonitorSettings(metric="accuracy", threshold=threshold, tolerance=0.05)
        assert floor(rule, None) == threshold


def test_the_cooldown_ends_and_the_rule_retrains_again() -> None:
    rule = MonitorSettings(windows_below=1, window_count=1, cooldown_hours=72)
    window = [{"as_of": T0.isoformat(), "below": True}]
    for hours, cooling in ((71, True), (73, False)):
        started = [{"started_at": (T0 - timedelta(hours=hours)).isoformat()}]
        decision = decide_retrain(window, started, T0, rule)
        assert decision.retrain is not cooling and (decision.cooldown_until is not None) is cooling, hours


def test_only_windows_of_this_windows_champion_count_whatever_the_versions_names() -> None:
    from components.monitoring.core import retrain_decision

    rule = MonitorSettings(windows_below=2, window_count=3, cooldown_hours=0)
    others = [
        {"as_of": (T0 - timedelta(days=d)).isoformat(), "below": True, "champion_version": "v9"}
        for d in (1, 2)
    ]
    window = {"as_of": T0.isoformat(), "below": True, "champion_version": "v1"}  # v9 sorts after v1
    decision = retrain_decision(window, others, [], T0, rule)
    assert decision.considered == 1 and not decision.retrain


def test_a_window_with_unseen_labels_names_the_first_three() -> None:
    from components.monitoring.core import check_window_labels

    with pytest.raises(InputError, match=r"label\(s\) 'c', 'd', 'e' the champion never saw \(classes a, b\)"):
        check_window_labels(["a", "f", "e", "d", "c"], ["a", "b"])


def test_window_keys_keep_letters_digits_dashes_and_underscores_of_the_run_id() -> None:
    from components.monitoring.core import window_key

    assert window_key("m", T0, "run-1_a/b:c").endswith("-run-1_abc.json")
    assert window_key("m", T0, "/:.").endswith("-local.json")
    assert window_key("m", T0, "").endswith("-local.json")
