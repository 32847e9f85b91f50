"""``kfops run PIPELINE``: run a pipeline locally with kfp.local."""

from __future__ import annotations

import argparse

from components.shared.errors import InputError
from kfops.commands import Subcommands
from kfops.commands.common import STORE_HELP
from kfops.settings import Settings


def add_parsers(commands: Subcommands) -> None:
    """Register ``run``."""
    run = commands.add_parser("run", help="run a pipeline locally with kfp.local")
    run.add_argument("pipeline", help="pipeline name, e.g. training")
    run.add_argument(
        "--param", action="append", default=[], metavar="KEY=VALUE", help="pipeline parameter (repeatable)"
    )
    run.add_argument("--store", help=STORE_HELP)
    run.add_argument("-v", "--verbose", action="store_true", help="stream every task's output")
    run.add_argument(
        "--runner",
        choices=["subprocess", "isolated", "docker"],
        default="subprocess",
        help="subprocess: every task in this environment (default); isolated: each task with only "
        "what its image holds (locked requirements, copied files); docker: the images themselves",
    )
    run.add_argument(
        "--isolated",
        dest="runner",
        action="store_const",
        const="isolated",
        help="short for --runner isolated",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="monitoring: say which retraining would start, start none"
    )
    run.add_argument(
        "--promote",
        action="store_true",
        help="training: let the new model replace the champion if it does not regress "
        "(default: challenge and report only; same as --param promote=true)",
    )
    run.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the pipeline and print its summary (monitoring: the windows and any retraining)."""
    from kfops.local_run import parse_record, run_pipeline
    from kfops.report import run_summary

    if args.pipeline == "monitoring":
        from kfops.continuous import run_monitoring_locally

        run_monitoring_locally(
            args.param,
            settings,
            store=args.store,
            verbose=args.verbose,
            dry_run=args.dry_run,
            runner=args.runner,
        )
        return 0
    if args.dry_run:
        raise InputError("--dry-run applies to the monitoring pipeline only")
    pairs = list(args.param)
    if args.promote:
        if args.pipeline != "training":
            raise InputError("--promote applies to the training pipeline only")
        if any(p.partition("=")[0].strip() == "promote" for p in pairs):
            raise InputError("give promotion either as --promote or as --param promote=..., not both")
        pairs.append("promote=true")
    result = run_pipeline(
        args.pipeline,
        pairs,
        settings=settings,
        store=args.store,
        verbose=args.verbose,
        runner=args.runner,
    )
    if args.pipeline == "inference" and isinstance(result.output, str):
        from components.shared.tables import read_parquet_metadata
        from kfops.report import inference_summary

        facts = read_parquet_metadata(result.output)
        print(inference_summary(result.seconds, facts, result.output, str(result.log_path), result.tasks))
        return 0
    record = parse_record(result.output)
    print(run_summary(args.pipeline, result.seconds, record, str(result.log_path), result.tasks))
    if record.get("model_version"):
        from kfops.continuous import challenge_summary

        print(challenge_summary(result.store, str(record["model_name"]), str(record["model_version"])))
    return 0
