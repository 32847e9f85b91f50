"""CLI of `ingest`: ``python -m components.ingest {run,synth} ...``."""

from __future__ import annotations

import argparse

from components.ingest.io import run_ingest, write_synthetic
from components.shared.cli import exit_process, run_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m components.ingest", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="validate a source into a dataset and schema")
    run.add_argument("--source", required=True, help="path or file://, s3://, https://, builtin:// URI")
    run.add_argument("--label-column", default="target")
    run.add_argument("--categorical-columns", default="", help="comma-separated")
    run.add_argument("--task", default="auto", choices=("auto", "classification", "regression"))
    run.add_argument("--dataset", required=True, help="output Parquet path or s3:// URI")
    run.add_argument("--schema", required=True, help="output JSON path or s3:// URI")
    synth = commands.add_parser("synth", help="write a synthetic dataset for large-scale runs")
    synth.add_argument("--rows", type=int, required=True)
    synth.add_argument("--features", type=int, default=20)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--output", required=True, help=".csv or .parquet path or s3:// URI")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "synth":
        print(write_synthetic(args.rows, args.output, args.features, args.seed))
    else:
        schema = run_ingest(
            args.source, args.label_column, args.categorical_columns, args.dataset, args.schema, args.task
        )
        print(f"{schema.rows} rows, {len(schema.features)} features, {schema.task}, {schema.fingerprint}")
    return 0


if __name__ == "__main__":
    exit_process(run_cli(main))  # see exit_process: a decided exit code survives native teardown
