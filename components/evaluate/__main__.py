"""CLI of `evaluate`: ``python -m components.evaluate --model DIR --test T --record R``."""

from __future__ import annotations

import argparse
import json

from components.evaluate.io import run_evaluate
from components.shared.cli import exit_process, run_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.evaluate", description=__doc__)
    parser.add_argument("--model", required=True, help="model directory written by train")
    parser.add_argument("--test", required=True, help="test Parquet written by split")
    parser.add_argument("--record", required=True, help="output Parquet path or s3:// URI")
    args = parser.parse_args(argv)
    evaluation, _ = run_evaluate(args.model, args.test, args.record)
    print(json.dumps(evaluation.metrics, sort_keys=True))
    return 0


if __name__ == "__main__":
    exit_process(run_cli(main))  # see exit_process: a decided exit code survives native teardown
