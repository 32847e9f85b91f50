"""CLI of `model_storage`: copy a trained model into the store as a new immutable version."""

from __future__ import annotations

import argparse

from components.model_storage.io import store_model
from components.shared.cli import exit_process, run_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.model_storage", description=__doc__)
    parser.add_argument("--model", required=True, help="model directory written by train")
    parser.add_argument("--evaluation", required=True, help="evaluation record written by evaluate")
    parser.add_argument("--store", required=True, help="store root: directory or s3://bucket/prefix")
    parser.add_argument("--name", required=True, help="model name")
    parser.add_argument("--run-id", default="")
    parser.add_argument("--git-commit", default="")
    parser.add_argument("--git-ref", default="")
    parser.add_argument("--version", default="", help="explicit version id (default: time + run id)")
    args = parser.parse_args(argv)
    stored = store_model(
        args.model,
        args.evaluation,
        args.store,
        args.name,
        run_id=args.run_id,
        git_commit=args.git_commit,
        git_ref=args.git_ref,
        version=args.version,
    )
    print(stored.uri)
    return 0


if __name__ == "__main__":
    exit_process(run_cli(main))  # see exit_process: a decided exit code survives native teardown
