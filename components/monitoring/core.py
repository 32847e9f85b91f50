"""Pure core of `monitoring`: is the champion getting worse, and is it time to retrain?

Each labeled window is scored with the champion and marked *below* when its metric
falls under the absolute ``threshold`` or under the champion's own evaluation by
more than ``tolerance``. Retraining is due when at least ``windows_below`` of the
last ``window_count`` windows are below, unless a retraining started within the
``cooldown`` before this window. Only a trigger that actually started a run is
recorded, so a failed trigger never starts the cooldown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from components.shared.errors import InputError
from components.shared.names import LAYOUT

#: Where window records and retraining starts live: ``metrics/monitoring/<model>/...``.
MONITORING_PREFIX = f"{LAYOUT.metrics}/monitoring"
#: Metrics a window can be judged on, and whether higher is better: classifiers' and regressors'.
WATCHED_METRICS = {
    "accuracy": True,
    "macro_f1": True,
    "roc_auc": True,
    "r2": True,
    "rmse": False,
    "mae": False,
}
#: ``metric=auto``: the task's gated metric.
AUTO_METRIC = "auto"
DEFAULT_METRICS = {"classification": "accuracy", "regression": "rmse"}


@dataclass(frozen=True)
class MonitorSettings:
    """The retraining rule.

    Attributes:
        metric: Metric judged per window (``auto``: accuracy for a classifier, rmse for a regressor).
        threshold: Absolute floor, or for rmse/mae (lower is better) an absolute ceiling (0 disables it).
        tolerance: Allowed worsening against the champion's own evaluation (absolute, in
            the metric's units: a drop of accuracy, a rise of RMSE).
        windows_below: N: how many of the last M windows must be below.
        window_count: M: how many recent windows are considered.
        cooldown_hours: No new retraining within this long after the last one started.
    """

    metric: str = AUTO_METRIC
    threshold: float = 0.0
    tolerance: float = 0.05
    windows_below: int = 2
    window_count: int = 3
    cooldown_hours: float = 72.0

    def __post_init__(self) -> None:
        if self.metric != AUTO_METRIC and self.metric not in WATCHED_METRICS:
            raise InputError(
                f"metric {self.metric!r} cannot be watched; use auto or one of {', '.join(WATCHED_METRICS)}"
            )
        bounded = WATCHED_METRICS.get(self.metric, True)
        if self.threshold < 0 or (bounded and self.threshold > 1) or self.tolerance < 0:
            raise InputError(
                "threshold must be in [0, 1] (>= 0 for rmse and mae) and tolerance >= 0"
                if bounded
                else "threshold and tolerance must be >= 0"
            )
        if not 1 <= self.windows_below <= self.window_count:
            raise InputError(
                f"need 1 <= windows_below <= window_count, got {self.windows_below} of {self.window_count}"
            )
        if self.cooldown_hours < 0:
            raise InputError(f"cooldown_hours must be >= 0, got {self.cooldown_hours}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def resolve_metric(settings: MonitorSettings, task: str) -> MonitorSettings:
    """``metric=auto`` made the task's metric; a metric of the other task is refused.

    Raises:
        InputError: e.g. accuracy asked of a regressor.
    """
    from dataclasses import replace

    if settings.metric == AUTO_METRIC:
        return replace(settings, metric=DEFAULT_METRICS[task])
    regression_metric = settings.metric in ("rmse", "mae", "r2")
    if regression_metric != (task == "regression"):
        fitting = [m for m in WATCHED_METRICS if (m in ("rmse", "mae", "r2")) == (task == "regression")]
        raise InputError(
            f"metric {settings.metric!r} does not apply to a {task} model; "
            f"use auto or one of {', '.join(fitting)}"
        )
    return settings


def higher_is_better(metric: str) -> bool:
    """Direction of a watched metric (``auto`` is resolved before use; it is higher-is-better
    for a classifier)."""
    return WATCHED_METRICS.get(metric, True)


def floor(settings: MonitorSettings, champion_value: float | None) -> float:
    """The value beyond which a window counts as below: a floor (higher is better) or, for
    rmse and mae, a ceiling (``inf`` when neither a threshold nor the champion's value sets one)."""
    if higher_is_better(settings.metric):
        relative = champion_value - settings.tolerance if champion_value is not None else 0.0
        return max(settings.threshold, relative)
    ceilings = [settings.threshold] if settings.threshold > 0 else []
    if champion_value is not None:
        ceilings.append(champion_value + settings.tolerance)
    return min(ceilings, default=float("inf"))


def is_below(settings: MonitorSettings, value: float, limit: float) -> bool:
    """Whether a window's value is on the wrong side of its `floor`."""
    return value < limit if higher_is_better(settings.metric) else value > limit


@dataclass(frozen=True)
class WindowVerdict:
    """How one window's watched metric stands against its `floor`.

    Attributes:
        metric: The watched metric (resolved: never ``auto``).
        value: The window's value of it.
        champion_value: The champion's value at its own evaluation (``None`` if not recorded).
        floor: The floor, or for rmse and mae a ceiling (see `floor`).
        higher_is_better: Direction of the metric.
        below: The window is on the wrong side of the floor.
    """

    metric: str
    value: float
    champion_value: float | None
    floor: float
    higher_is_better: bool
    below: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the window record's fields of the same names)."""
        return asdict(self)


def judge_window(
    settings: MonitorSettings, metrics: dict[str, float], champion_metrics: dict[str, Any]
) -> WindowVerdict:
    """Whether a window is below: its metric against the threshold and the champion's own value.

    Args:
        settings: The rule, its metric resolved (`resolve_metric`).
        metrics: The champion's metrics on this window.
        champion_metrics: The metrics recorded with the champion version (its evaluation).

    Raises:
        InputError: The watched metric is not defined for this window and model.
    """
    if settings.metric not in metrics:  # e.g. roc_auc of a multiclass model or a one-class window
        raise InputError(
            f"metric {settings.metric!r} is not defined for this window and model; "
            f"use one of {', '.join(sorted(metrics))}"
        )
    value = float(metrics[settings.metric])
    champion_value = champion_metrics.get(settings.metric)
    limit = floor(settings, None if champion_value is None else float(champion_value))
    return WindowVerdict(
        metric=settings.metric,
        value=value,
        champion_value=champion_value,
        floor=limit,  # a ceiling for rmse and mae (lower is better)
        higher_is_better=WATCHED_METRICS[settings.metric],
        below=is_below(settings, value, limit),
    )


@dataclass(frozen=True)
class RetrainDecision:
    """What the rule concluded for one window.

    Attributes:
        retrain: Start a retraining now.
        rule_met: N of the last M windows are below (whatever the cooldown says).
        below: Windows below among those considered.
        considered: Windows considered (the last M, this one included).
        cooldown_until: End of the running cooldown, if one is running.
        reason: One line for logs, records and notifications.
    """

    retrain: bool
    rule_met: bool
    below: int
    considered: int
    cooldown_until: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def decide_retrain(
    windows: list[dict[str, Any]],
    triggers: list[dict[str, Any]],
    as_of: datetime,
    settings: MonitorSettings,
) -> RetrainDecision:
    """Apply the N-of-M rule and the cooldown.

    Args:
        windows: Window records (``as_of`` ISO time, ``below`` flag) of the current champion,
            this window included; only those at or before ``as_of`` count, and a window
            measured twice (same time and input fingerprint) counts once.
        triggers: Recorded retraining starts (``started_at`` ISO time).
        as_of: Time of this window.
        settings: The rule.

    Returns:
        The decision.
    """
    latest: dict[tuple[str, str], dict[str, Any]] = {}  # the same window measured twice counts once
    for window in windows:
        if _time(window["as_of"]) <= as_of:
            latest[(_time(window["as_of"]).isoformat(), str(window.get("input_fingerprint", "")))] = window
    past = sorted(latest.values(), key=lambda w: _time(w["as_of"]))
    recent = past[-settings.window_count :]
    below = sum(1 for w in recent if w["below"])
    rule_met = below >= settings.windows_below
    starts = [_time(t["started_at"]) for t in triggers if _time(t["started_at"]) <= as_of]
    cooldown_end = max(starts) + timedelta(hours=settings.cooldown_hours) if starts else None
    cooling = cooldown_end is not None and as_of < cooldown_end
    counted = f"{below} of the last {len(recent)} windows below"
    if not rule_met:
        reason = f"no retraining: {counted} (need {settings.windows_below} of {settings.window_count})"
    elif cooling:
        until = f"{cooldown_end:%Y-%m-%d %H:%M}"
        reason = f"rule met ({counted}) but a retraining started recently; cooldown until {until} UTC"
    else:
        reason = f"retrain: {counted} (need {settings.windows_below} of {settings.window_count})"
    return RetrainDecision(
        retrain=rule_met and not cooling,
        rule_met=rule_met,
        below=below,
        considered=len(recent),
        cooldown_until=cooldown_end.isoformat() if cooling and cooldown_end else None,
        reason=reason,
    )


def retrain_decision(
    window: dict[str, Any],
    recorded: list[dict[str, Any]],
    triggers: list[dict[str, Any]],
    as_of: datetime,
    settings: MonitorSettings,
) -> RetrainDecision:
    """The rule's decision after ``window``: `decide_retrain` over the current champion's windows.

    Only windows of ``window``'s champion version count: a new champion is not retrained
    for its predecessor's decline.

    Args:
        window: This window's record (``champion_version``, ``as_of``, ``below``, ...).
        recorded: The model's window records already in the store (any champion).
        triggers: Recorded retraining starts (``started_at`` ISO time).
        as_of: Time of this window.
        settings: The rule.
    """
    history = [w for w in recorded if w.get("champion_version") == window["champion_version"]]
    return decide_retrain([*history, window], triggers, as_of, settings)


def _time(value: str) -> datetime:
    return parse_time(value)


def check_window_labels(window_labels: list[str], model_classes: list[str]) -> None:
    """Refuse a window whose labels the champion has never seen (its metrics would be meaningless).

    Raises:
        InputError: A label outside the model's classes.
    """
    unseen = sorted(set(window_labels) - set(model_classes))
    if unseen:
        raise InputError(
            f"window has label(s) {', '.join(map(repr, unseen[:3]))} the champion never saw "
            f"(classes {', '.join(model_classes)}); retrain on data that includes them"
        )


def _slug(run_id: str) -> str:
    return "".join(c for c in run_id if c.isalnum() or c in "-_") or "local"


def window_key(model_name: str, as_of: datetime, run_id: str) -> str:
    """Store key of a window record (sorts by window time)."""
    return f"{MONITORING_PREFIX}/{model_name}/windows/{as_of:%Y%m%dT%H%M%S%fZ}-{_slug(run_id)}.json"


def claim_key(model_name: str, as_of: datetime) -> str:
    """Store key that lets one retraining start per window (not a trigger: no cooldown)."""
    return f"{MONITORING_PREFIX}/{model_name}/claims/{as_of:%Y%m%dT%H%M%S%fZ}.json"


def trigger_key(model_name: str, started_at: datetime, run_id: str) -> str:
    """Store key of a recorded retraining start."""
    return f"{MONITORING_PREFIX}/{model_name}/triggers/{started_at:%Y%m%dT%H%M%S%fZ}-{_slug(run_id)}.json"


def parse_time(value: str) -> datetime:
    """An ISO time (naive means UTC); empty means now.

    Raises:
        InputError: Not an ISO 8601 time.
    """
    if not value.strip():
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"as_of {value!r} is not an ISO 8601 time (e.g. 2026-11-22T06:00:00Z)") from None
    # Keys and comparisons use UTC, so windows given with different offsets still sort by time.
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
