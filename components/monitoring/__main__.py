"""CLI of `monitoring`: score the champion on a labeled window and decide on retraining."""

from __future__ import annotations

import argparse
import json

from components.monitoring.core import MonitorSettings
from components.monitoring.io import run_monitoring
from components.shared.cli import exit_process, run_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.monitoring", description=__doc__)
    parser.add_argument("--store", required=True, help="store root: directory or s3://bucket/prefix")
    parser.add_argument("--name", required=True, help="model name (its champion is watched)")
    parser.add_argument("--source", required=True, help="labeled window: path or URI")
    rule = MonitorSettings()  # the rule's defaults, from its one definition
    parser.add_argument("--metric", default=rule.metric)
    parser.add_argument("--threshold", type=float, default=rule.threshold)
    parser.add_argument("--tolerance", type=float, default=rule.tolerance)
    parser.add_argument("--windows-below", type=int, default=rule.windows_below)
    parser.add_argument("--window-count", type=int, default=rule.window_count)
    parser.add_argument("--cooldown-hours", type=float, default=rule.cooldown_hours)
    parser.add_argument("--as-of", default="", help="window time, ISO 8601 (default: now)")
    args = parser.parse_args(argv)
    settings = MonitorSettings(
        args.metric,
        args.threshold,
        args.tolerance,
        args.windows_below,
        args.window_count,
        args.cooldown_hours,
    )
    record = run_monitoring(args.store, args.name, args.source, settings, as_of=args.as_of)
    print(json.dumps(record["decision"], sort_keys=True))
    return 0


if __name__ == "__main__":
    exit_process(run_cli(main))  # see exit_process: a decided exit code survives native teardown
