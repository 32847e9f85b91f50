"""``kfops compile``: compile every pipeline to YAML."""

from __future__ import annotations

import argparse
from pathlib import Path

from kfops.commands import Subcommands
from kfops.commands.common import DEFAULT_PIPELINES_DIR
from kfops.settings import Settings


def add_parsers(commands: Subcommands) -> None:
    """Register ``compile``."""
    comp = commands.add_parser("compile", help="compile every pipeline to YAML")
    comp.add_argument("--output-dir", type=Path, default=DEFAULT_PIPELINES_DIR)
    comp.set_defaults(handler=compile_command)


def compile_command(args: argparse.Namespace, settings: Settings) -> int:
    """Compile every pipeline into ``--output-dir`` and print each file written."""
    from kfops.compile import compile_pipelines

    for path in compile_pipelines(args.output_dir):
        print(path)
    return 0
