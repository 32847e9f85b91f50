"""CLI of `metrics_store`: ``python -m components.metrics_store {append,list,show} ...``."""

from __future__ import annotations

import argparse
import json

from components.metrics_store.io import append_record, list_records, show_record
from components.shared.cli import exit_process, run_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.metrics_store", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    append = commands.add_parser("append", help="append a run record")
    append.add_argument("--evaluation", required=True, help="evaluation record written by evaluate")
    append.add_argument("--store", required=True)
    append.add_argument("--pipeline", required=True)
    append.add_argument("--run-id", default="")
    append.add_argument("--git-ref", default="")
    append.add_argument("--git-commit", default="")
    for name in ("list", "show"):
        sub = commands.add_parser(name)
        sub.add_argument("--store", required=True)
        sub.add_argument("--pipeline", default=None)
        if name == "show":
            sub.add_argument("run", help="run id or run name")
    args = parser.parse_args(argv)
    if args.command == "append":
        result: object = append_record(
            args.evaluation,
            args.store,
            args.pipeline,
            run_id=args.run_id,
            git_ref=args.git_ref,
            git_commit=args.git_commit,
        )
    elif args.command == "list":
        result = list_records(args.store, args.pipeline)
    else:
        result = show_record(args.store, args.run, args.pipeline)
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    exit_process(run_cli(main))  # see exit_process: a decided exit code survives native teardown
