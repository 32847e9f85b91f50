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
) -> tuple[RunResult | None, dict[str, Any], dict[str, Any] | None]:
    """Run the monitoring pipeline; when the rule fires, start (or, dry, describe) a local retraining.

    A dry run writes nothing anywhere: it scores the window in this process with the
    monitoring task's own code (no pipeline run, no log, no window record) and prints
    the decision and the exact command a real run would start.

    Returns:
        The monitoring run (``None`` for a dry run), its window record, and the trigger
        record (``None`` when nothing was started). ``runner`` (see ``run_pipeline``)
        applies to the retraining too.
    """
    if dry_run:
        return None, *_dry_monitoring(pairs, settings, store)
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
    print("  retraining: starting a local training run")
    trained = run_pipeline(
        "training",
        [f"{k}={_param_text(v)}" for k, v in parameters.items() if k != "store"],
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
    print(run_summary("training", trained.seconds, record, str(trained.log_path), trained.tasks))
    print(challenge_summary(result.store, window["model_name"], str(record.get("model_version", ""))))
    return result, window, trigger


def _param_text(value: Any) -> str:
    """A training parameter as ``--param`` text (``true``, JSON for objects)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def training_command(parameters: dict[str, Any]) -> str:
    """The ``kfops run training`` command that starts a retraining with ``parameters`` (runs as printed)."""
    args = ["kfops", "run", "training", "--store", str(parameters["store"])]
    for key, value in parameters.items():
        if key == "store":
            continue
        if key == "promote" and value is True:
            args.append("--promote")
        else:
            args += ["--param", f"{key}={_param_text(value)}"]
    return shlex.join(args)


def _dry_monitoring(pairs: list[str], settings: Settings, store: str | None) -> tuple[dict[str, Any], None]:
    """Score the window and apply the rule as the monitoring task does, recording nothing."""
    from components.monitoring.core import MonitorSettings
    from components.monitoring.io import run_monitoring
    from components.shared.store import LocalStore
    from kfops.params import parse_params, pipeline_parameters
    from kfops.registry import load_pipeline

    declared = pipeline_parameters(load_pipeline("monitoring"))
    given = parse_params(pairs, declared)
    if "store" in given and store:
        raise InputError("give the store either as --store or as --param store=..., not both")
    values = {k: default for k, (_, default) in declared.items()} | given
    backend = open_store(values.get("store") or store or settings.store)
    if isinstance(backend, LocalStore) and not backend.root.is_dir():
        raise InputError(f"store root {backend.root} does not exist")
    rule = MonitorSettings(
        str(values["metric"]),
        float(values["threshold"]),
        float(values["tolerance"]),
        int(values["windows_below"]),
        int(values["window_count"]),
        float(values["cooldown_hours"]),
    )
    window = run_monitoring(
        backend.uri,
        str(values["model_name"]),
        str(values["source"]),
        rule,
        as_of=str(values["as_of"] or ""),
        record_window=False,
    )
    print(f"Monitoring (dry run: scored here, nothing recorded)\n{window_summary(window)}")
    if not window["decision"]["retrain"]:
        return window, None
    host = given.get("kfp_host")
    parameters = training_parameters(
        str(values["training_parameters"]),
        store=backend.uri,
        model_name=window["model_name"],
        source=window["source"],
    )
    if host:
        print(f"  dry run: the trigger task would start pipeline {values['training_pipeline']!r} on {host}")
    else:
        print(f"  dry run: would start a local training run: {training_command(parameters)}")
    return window, None


def _params(pairs: list[str]) -> dict[str, str]:
    return dict(p.split("=", 1) for p in pairs if "=" in p)


_VERDICTS = {
    "promoted": "PROMOTED to champion",
    "kept": "REFUSED (champion kept)",
    "not comparable": "NOT COMPARABLE (champion kept)",
    "not promoted": "NOT PROMOTED (champion kept; not asked to promote)",
    "already champion": "already the champion",
}


def challenge_summary(store: str, model_name: str, version: str) -> str:
    """Whether ``version`` became champion, and why (with the deciding metrics)."""
    challenge = read_challenge(store, model_name, version)
    if challenge is None:
        return f"  champion {version} was not challenged"
    verdict = challenge.get("verdict") or ("promoted" if challenge["promote"] else "kept")
    against = f" against champion {challenge['champion']}" if challenge.get("champion") else ""
    lines = [f"  champion {version}{against}: {_VERDICTS.get(verdict, verdict)}: {challenge['reason']}"]
    for d in challenge.get("decisions", []):
        lines.append(
            f"           {d['metric']:<8} candidate {d['candidate']:.4f}  champion {d['baseline']:.4f}  "
            f"delta {d['delta']:+.4f}  p {d['p_value']:.3g}  "
            f"{'REGRESSED' if d['regressed'] else 'no regression'}"
        )
    return "\n".join(lines)


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
    print("(the demo's training runs may replace the champion, as with `kfops run training --promote`)\n")
    first = run_pipeline(
        "training", [f"model_name={DEMO_MODEL}", "promote=true"], settings=settings, store=store
    )
    record = parse_record(first.output)
    print(run_summary("training", first.seconds, record, str(first.log_path), first.tasks))
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
