"""CLI of `batch_predict`: predict a batch with a stored model (the champion by default)."""

from __future__ import annotations

import argparse
import json

from components.batch_predict.io import run_batch_predict
from components.shared.cli import exit_process, run_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.batch_predict", description=__doc__)
    parser.add_argument("--store", required=True, help="store root: directory or s3://bucket/prefix")
    parser.add_argument("--model", required=True, help="NAME (the champion) or NAME:VERSION")
    parser.add_argument("--source", required=True, help="batch to score: path or URI (CSV or Parquet)")
    args = parser.parse_args(argv)
    result = run_batch_predict(args.store, args.model, args.source)
    print(json.dumps({"uri": result.uri, **result.facts}, sort_keys=True))
    return 0


if __name__ == "__main__":
    exit_process(run_cli(main))  # see exit_process: a decided exit code survives native teardown
