"""CLI of `retrain_trigger`: start the deployed training pipeline for a window record."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from components.retrain_trigger.core import IN_CLUSTER_HOST, training_parameters
from components.retrain_trigger.io import run_trigger
from components.shared.cli import exit_process, run_cli
from components.shared.errors import InputError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.retrain_trigger", description=__doc__)
    parser.add_argument("--window", type=Path, required=True, help="window record JSON from monitoring")
    parser.add_argument("--store", required=True)
    parser.add_argument("--host", default=IN_CLUSTER_HOST, help="KFP API")
    parser.add_argument("--namespace", default="")
    parser.add_argument("--pipeline", default="training")
    parser.add_argument("--parameters", default="{}", help="extra training parameters (JSON object)")
    parser.add_argument("--webhook-url", default="")
    args = parser.parse_args(argv)
    try:
        window_json = args.window.read_text()
        window = json.loads(window_json)
    except OSError as exc:
        raise InputError(f"cannot read window record {args.window}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{args.window} is not JSON: {exc}") from None
    missing = [k for k in ("model_name", "source", "as_of", "decision") if k not in window]
    if missing:
        raise InputError(f"{args.window} is not a window record from monitoring: no {missing[0]!r}")
    parameters = training_parameters(
        args.parameters, store=args.store, model_name=window["model_name"], source=window["source"]
    )
    record = run_trigger(
        window_json,
        host=args.host,
        namespace=args.namespace,
        pipeline=args.pipeline,
        parameters=parameters,
        store_uri=args.store,
        webhook_url=args.webhook_url,
    )
    print(json.dumps(record, sort_keys=True))
    return 0


if __name__ == "__main__":
    exit_process(run_cli(main))  # see exit_process: a decided exit code survives native teardown
