"""CLI of `split`: ``python -m components.split --dataset D --train T --test T --info I``."""

from __future__ import annotations

import argparse

from components.shared.cli import exit_process, run_cli
from components.split.io import run_split


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.split", description=__doc__)
    parser.add_argument("--dataset", required=True, help="input Parquet written by ingest")
    parser.add_argument("--train", required=True, help="output Parquet path or s3:// URI")
    parser.add_argument("--test", required=True, help="output Parquet path or s3:// URI")
    parser.add_argument("--info", required=True, help="output JSON path or s3:// URI")
    parser.add_argument("--test-size", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-stratify", dest="stratify", action="store_false")
    args = parser.parse_args(argv)
    info = run_split(
        args.dataset,
        args.train,
        args.test,
        args.info,
        test_size=args.test_size,
        seed=args.seed,
        stratify=args.stratify,
    )
    print(f"train {info.train_rows} rows, test {info.test_rows} rows, {info.test_fingerprint}")
    return 0


if __name__ == "__main__":
    exit_process(run_cli(main))  # see exit_process: a decided exit code survives native teardown
