"""``kfops rollback PIPELINE``: point a pipeline's schedules at an earlier version."""

from __future__ import annotations

import argparse
from pathlib import Path

from kfops.commands import Subcommands
from kfops.commands.common import DEFAULT_SCHEDULES, kfp_token
from kfops.settings import Settings


def add_parsers(commands: Subcommands) -> None:
    """Register ``rollback``."""
    rollback = commands.add_parser("rollback", help="point a pipeline's schedules at an earlier version")
    rollback.add_argument("pipeline")
    rollback.add_argument("--to", default="", help="version name (default: the one before the current)")
    rollback.add_argument("--host", required=True)
    rollback.add_argument("--namespace", default="")
    rollback.add_argument("--token-file", type=Path)
    rollback.add_argument("--token-from-eks", metavar="CLUSTER")
    rollback.add_argument("--service-account", metavar="NS/NAME")
    rollback.add_argument("--schedules", type=Path, default=DEFAULT_SCHEDULES)
    rollback.add_argument("--keep", type=int, default=10, help="versions kept (unused older ones are pruned)")
    rollback.set_defaults(handler=rollback_command)


def rollback_command(args: argparse.Namespace, settings: Settings) -> int:
    """Move the pipeline's schedules to the earlier version; print what moved and was pruned."""
    from kfops.rollback import rollback

    outcome = rollback(
        args.host,
        kfp_token(args),
        args.pipeline,
        args.schedules,
        to=args.to,
        namespace=args.namespace,
        keep=args.keep,
    )
    print(f"{args.pipeline}: schedules moved from {outcome['from']} to {outcome['to']}")
    for version in outcome["pruned"]:
        print(f"pruned {version}")
    for warning in outcome["warnings"]:
        print(f"warning: {warning}")
    return 0
