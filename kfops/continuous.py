"""Continuous training on a laptop: monitoring that retrains, champion commands, the loop demo.

On a cluster the monitoring pipeline's trigger task starts the deployed training
pipeline itself. Locally (`kfops run monitoring`) the trigger task starts nothing;
this module starts a local training run instead and records the start only once
that run has succeeded, so a failed retraining never starts the cooldown.
"""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from components.champion.io import history, read_challenge, rollback_champion, set_champion
from components.retrain_trigger.core import training_parameters, trigger_record
from components.retrain_trigger.io import record_trigger
from components.shared.errors import InputError
from components.shared.models import read_champion
from components.shared.store import open_store
from kfops.local_run import RunResult, parse_record, run_pipeline
from kfops.report import run_summary
from kfops.settings import Settings

#: The demo's days: windows 0-2 look like the training data, then inputs drift a little more each day.
DEMO_WINDOWS = 9
DEMO_START = datetime(2026, 1, 1, 6, tzinfo=UTC)
DEMO_MODEL = "drift-demo"
DEMO_COOLDOWN_HOURS = 96  # four daily windows


def window_summary(record: dict[str, Any]) -> str:
    """One paragraph about a monitored window."""
    decision = record["decision"]
    mark = "BELOW" if record["below"] else "ok"
    bound = "floor" if record.get("higher_is_better", True) else "ceiling"  # rmse, mae: lower is better
    return (
        f"  window   {record['source']} as of {record['as_of'][:16]}  champion {record['champion_version']}\n"
        f"  {record['metric']:<8} {record['value']:.4f} ({bound} {record['floor']:.4f}) {mark};  "
        f"max PSI {record['psi_max']:.3f}\n"
        f"  decision {decision['reason']}"
    )


def run_monitoring_locally(
    pairs: list[str],
    settings: Settings,
    *,
    store: str | None,
    verbose: bool,
    dry_run: bool,
    runner: str = "subprocess",
) -> tuple[RunResult, dict[str, Any], dict[str, Any] | None]:
    """Run the monitoring pipeline; when the rule fires, start (or, dry, describe) a local retraining.

    Returns:
        The monitoring run, its window record, and the trigger record (``None`` when
        nothing was started). ``runner`` (see ``run_pipeline``) applies to the retraining too.
    """
    host = _params(pairs).get("kfp_host")
    if host is None:
        pairs = [*pairs, "kfp_host="]  # local: the trigger task defers to us
    result = run_pipeline("monitoring", pairs, settings=settings, store=store, verbose=verbose, runner=runner)
    window = json.loads(Path(result.output.path).read_text())
    print(f"Pipeline 'monitoring' succeeded in {result.seconds:.1f} s\n{window_summary(window)}")
    if not window["decision"]["retrain"]:
        return result, window, None
    if host:  # the trigger task has started (and recorded) the run on that KFP API
        print(f"  retraining: started on {host} by the trigger task")
        return result, window, None
    params = _params(pairs)
    parameters = training_parameters(
        params.get("training_parameters", "{}"),
        store=result.store,
        model_name=window["model_name"],
        source=window["source"],
    )
    command = "kfops run training " + " ".join(shlex.quote(f"{k}={v}") for k, v in parameters.items())
    if dry_run:
        print(f"  dry run: would start a local training run: {command}")
        return result, window, None
    print("  retraining: starting a local training run")
    trained = run_pipeline(
        "training",
        [f"{k}={v}" for k, v in parameters.items() if k != "store"],
        settings=settings,
        store=result.store,
        verbose=verbose,
        runner=runner,
    )
    record = parse_record(trained.output)
    trigger = trigger_record(
        window,
        pipeline="training",
        run_id=str(record.get("run_id", "")),
        where="local",
        parameters=parameters,
        recorded_at=datetime.now(UTC).isoformat(),
    )
    record_trigger(result.store, window["model_name"], trigger)
    print(run_summary("training", trained.seconds, record, str(trained.log_path)))
    print(challenge_summary(result.store, window["model_name"], str(record.get("model_version", ""))))
    return result, window, trigger


def _params(pairs: list[str]) -> dict[str, str]:
    return dict(p.split("=", 1) for p in pairs if "=" in p)


def challenge_summary(store: str, model_name: str, version: str) -> str:
    """Whether ``version`` became champion, and why."""
    challenge = read_challenge(store, model_name, version)
    if challenge is None:
        return f"  champion {version} was not challenged"
    verdict = "PROMOTED to champion" if challenge["promote"] else "REFUSED (champion kept)"
    return f"  champion {version}: {verdict}: {challenge['reason']}"


def show_champion(store: str, model_name: str) -> dict[str, Any]:
    """The champion pointer.

    Raises:
        InputError: No champion.
    """
    backend = open_store(store)
    champion = read_champion(backend, model_name)
    if champion is None:
        raise InputError(f"model {model_name!r} has no champion in {backend.uri}")
    return champion


def champion_history(store: str, model_name: str) -> list[dict[str, Any]]:
    """Promotions and rollbacks, oldest first."""
    return history(store, model_name)


def rollback(store: str, model_name: str, to: str) -> dict[str, Any]:
    """Make an earlier version champion again."""
    return rollback_champion(store, model_name, to)


def promote(store: str, reference: str) -> dict[str, Any]:
    """Make ``MODEL:VERSION`` champion by hand (e.g. after a feature-set change), recorded.

    Raises:
        InputError: Not ``MODEL:VERSION``, or no such version.
    """
    name, _, version = reference.partition(":")
    if not version:
        raise InputError(f"promote needs MODEL:VERSION, got {reference!r}")
    return set_champion(store, name, version, action="promote")


def loop_demo(settings: Settings, store: str | None, windows: int = DEMO_WINDOWS) -> int:
    """Train a champion, then monitor daily drifting windows: decline, trigger, cooldown, new champion."""
    if store is None:  # a fresh store, so earlier demos' windows and cooldowns do not interfere
        fresh = settings.runs_dir.parent / "loop-demo" / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        fresh.mkdir(parents=True, exist_ok=True)
        store = str(fresh)
    print(f"Continuous-training demo: model '{DEMO_MODEL}', {windows} daily windows of drifting data\n")
    first = run_pipeline("training", [f"model_name={DEMO_MODEL}"], settings=settings, store=store)
    record = parse_record(first.output)
    print(run_summary("training", first.seconds, record, str(first.log_path)))
    print(challenge_summary(first.store, DEMO_MODEL, str(record.get("model_version", ""))))
    fired = 0
    for number in range(windows):
        as_of = DEMO_START + timedelta(days=number)
        print(f"\nDay {number}:")
        _, _, trigger = run_monitoring_locally(
            [
                f"model_name={DEMO_MODEL}",
                f"source=builtin://breast_cancer_drift?window={number}",
                f"as_of={as_of.isoformat()}",
                f"cooldown_hours={DEMO_COOLDOWN_HOURS}",
            ],
            settings,
            store=first.store,
            verbose=False,
            dry_run=False,
        )
        fired += trigger is not None
    champion = show_champion(first.store, DEMO_MODEL)
    print(
        f"\nDemo done: retraining fired {fired} time(s); champion is {champion['version']} "
        f"({champion['action']}: {champion['reason']}).\n"
        f"Promotions: kfops champion history {DEMO_MODEL} --store {first.store}"
    )
    return 0


def print_json(value: Any) -> None:
    """Pretty JSON on stdout."""
    print(json.dumps(value, indent=2, sort_keys=True))
