"""CLI of `train`: ``python -m components.train --prepared P --preprocessor DIR --model DIR``."""

from __future__ import annotations

import argparse

from components.shared.cli import exit_process, run_cli
from components.train.core import DEFAULT_ALLOWED_MODULES, DEFAULT_ESTIMATOR
from components.train.io import run_train


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.train", description=__doc__)
    parser.add_argument("--prepared", required=True, help="prepared Parquet written by preprocess")
    parser.add_argument("--preprocessor", required=True, help="directory written by preprocess")
    parser.add_argument("--model", required=True, help="output directory or s3:// prefix")
    parser.add_argument(
        "--estimator",
        default=DEFAULT_ESTIMATOR,
        help="auto, a name (logistic_regression, ridge, random_forest, ...) or an import path",
    )
    parser.add_argument(
        "--allowed-estimators",
        default=",".join(DEFAULT_ALLOWED_MODULES),
        help="comma-separated modules whose estimators may be named by import path",
    )
    parser.add_argument("--hyperparameters", default="{}", help='JSON object, e.g. {"C": 0.5}')
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    trained = run_train(
        args.prepared,
        args.preprocessor,
        args.model,
        estimator=args.estimator,
        hyperparameters=args.hyperparameters,
        seed=args.seed,
        allowed_estimators=args.allowed_estimators,
    )
    print(f"trained {trained.metadata['estimator_class']} on {trained.metadata['train_rows']} rows")
    return 0


if __name__ == "__main__":
    exit_process(run_cli(main))  # see exit_process: a decided exit code survives native teardown
