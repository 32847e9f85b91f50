"""``kfops data synth``: datasets."""

from __future__ import annotations

import argparse

from kfops.commands import Subcommands
from kfops.settings import Settings


def add_parsers(commands: Subcommands) -> None:
    """Register ``data`` and its action."""
    data = commands.add_parser("data", help="datasets")
    data_cmd = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    synth = data_cmd.add_parser("synth", help="write a synthetic dataset for large-scale runs")
    synth.add_argument("--rows", type=int, required=True)
    synth.add_argument("--features", type=int, default=20)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--output", required=True, help=".csv or .parquet path or s3:// URI")
    synth.set_defaults(handler=data_synth)


def data_synth(args: argparse.Namespace, settings: Settings) -> int:
    """Write a synthetic dataset to ``--output`` and print where it went."""
    from components.ingest.io import write_synthetic

    print(write_synthetic(args.rows, args.output, args.features, args.seed))
    return 0
