"""``kfops plan``: what merging this branch would do (Markdown or JSON)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kfops.commands import Subcommands
from kfops.commands.common import DEFAULT_PIPELINES_DIR, DEFAULT_SCHEDULES
from kfops.settings import Settings


def add_parsers(commands: Subcommands) -> None:
    """Register ``plan``."""
    plan_cmd = commands.add_parser("plan", help="what merging this branch would do (Markdown or JSON)")
    plan_cmd.add_argument("--since", help="base git ref (e.g. origin/main)")
    plan_cmd.add_argument("--store", help="store with the deploy audit records (read only)")
    plan_cmd.add_argument("--gate-report", type=Path, help="gate.json of `kfops gate` to include")
    plan_cmd.add_argument("--pipelines-dir", type=Path, default=DEFAULT_PIPELINES_DIR)
    plan_cmd.add_argument("--schedules", type=Path, default=DEFAULT_SCHEDULES)
    plan_cmd.add_argument("--json", action="store_true")
    plan_cmd.set_defaults(handler=plan_command)


def plan_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print what merging this branch would do, as Markdown or (``--json``) JSON."""
    from kfops.plan import make_plan, render_markdown

    plan = make_plan(
        since=args.since,
        pipelines_dir=args.pipelines_dir,
        store=args.store,
        schedules=args.schedules,
        gate_report=args.gate_report,
    )
    print(json.dumps(plan, indent=2, default=str) if args.json else render_markdown(plan), end="")
    return 0
