"""CLI of `champion`: promote a stored model version if it beats the current champion."""

from __future__ import annotations

import argparse
import json

from components.champion.io import run_champion
from components.shared.cli import exit_process, run_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.champion", description=__doc__)
    parser.add_argument("--store", required=True, help="store root: directory or s3://bucket/prefix")
    parser.add_argument("--name", required=True, help="model name")
    parser.add_argument("--version", required=True, help="the candidate's stored version")
    parser.add_argument("--evaluation", required=True, help="the candidate's evaluation record")
    parser.add_argument("--test", required=True, help="the candidate's test set (from split)")
    parser.add_argument("--rules", default="", help="gated metrics as JSON (default: the gate's)")
    args = parser.parse_args(argv)
    outcome = run_champion(args.store, args.name, args.version, args.evaluation, args.test, rules=args.rules)
    print(json.dumps(outcome.to_dict(), sort_keys=True))
    return 0


if __name__ == "__main__":
    exit_process(run_cli(main))  # see exit_process: a decided exit code survives native teardown
