"""CLI of `preprocess`: fit named steps on a training set; write transform and prepared data."""

from __future__ import annotations

import argparse

from components.preprocess.core import DEFAULT_STEPS, STEPS
from components.preprocess.io import run_preprocess
from components.shared.cli import exit_process, run_cli


def main(argv: list[str] | None = None) -> int:
    steps_help = "; ".join(f"{name}: {step.description}" for name, step in STEPS.items())
    parser = argparse.ArgumentParser(prog="python -m components.preprocess", description=__doc__)
    parser.add_argument("--steps", default=DEFAULT_STEPS, help=f"comma-separated, in order. {steps_help}")
    parser.add_argument("--train", required=True, help="training Parquet written by split")
    parser.add_argument("--prepared", required=True, help="output Parquet path or s3:// URI")
    parser.add_argument("--preprocessor", required=True, help="output directory or s3:// prefix")
    args = parser.parse_args(argv)
    result = run_preprocess(args.steps, args.train, args.prepared, args.preprocessor)
    print(
        f"{result.summary['rows_in']} -> {result.summary['rows_out']} rows, "
        f"{result.prepared.shape[1] - 1} model inputs"
    )
    return 0


if __name__ == "__main__":
    exit_process(run_cli(main))  # see exit_process: a decided exit code survives native teardown
