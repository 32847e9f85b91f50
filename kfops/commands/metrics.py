"""``kfops metrics list|show``: read the metrics store."""

from __future__ import annotations

import argparse
import json

from kfops.commands import Subcommands
from kfops.commands.common import STORE_HELP, readable_store
from kfops.settings import Settings


def add_parsers(commands: Subcommands) -> None:
    """Register ``metrics`` and its actions."""
    metrics = commands.add_parser("metrics", help="read the metrics store")
    metrics_cmd = metrics.add_subparsers(dest="metrics_command", required=True, metavar="ACTION")
    listing = metrics_cmd.add_parser("list", help="one line per run record")
    show = metrics_cmd.add_parser("show", help="one run record as JSON")
    show.add_argument("run", help="run id or run name (or a unique prefix)")
    for sub in (listing, show):
        sub.add_argument("--store", help=STORE_HELP)
        sub.add_argument("--pipeline", help="only this pipeline's records")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(handler=metrics_list)
    show.set_defaults(handler=metrics_show)


def metrics_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print the run records (of ``--pipeline``), one line each or as JSON."""
    from components.metrics_store.io import list_records
    from kfops.report import records_table

    store = readable_store(args.store or settings.store)
    records = list_records(store, args.pipeline)
    print(json.dumps(records, indent=2, sort_keys=True) if args.json else records_table(records))
    return 0


def metrics_show(args: argparse.Namespace, settings: Settings) -> int:
    """Print one run record (by id, name or unique prefix) as JSON."""
    from components.metrics_store.io import show_record

    store = readable_store(args.store or settings.store)
    print(json.dumps(show_record(store, args.run, args.pipeline), indent=2, sort_keys=True))
    return 0
